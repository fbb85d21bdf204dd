"""Dependencies every route declares: settings, database session, Temporal client, the caller."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Iterator

from fastapi import Depends, Request
from sqlalchemy import Engine
from sqlmodel import Session
from temporalio.client import Client

from api.auth import Principal, authenticate, require
from config import ApiKey, Settings
from domain.district import District
from domain.vocabulary import Role


@dataclass
class AppState:
    settings: Settings
    engine: Engine
    district: District
    client: Client
    keys: dict[str, ApiKey]


def state(request: Request) -> AppState:
    return request.app.state.closeloop


StateDep = Annotated[AppState, Depends(state)]


def _settings(s: StateDep) -> Settings:
    return s.settings


def _session(s: StateDep) -> Iterator[Session]:
    with Session(s.engine) as session:
        yield session


def _client(s: StateDep) -> Client:
    return s.client


def _district(s: StateDep) -> District:
    return s.district


def _principal(request: Request, s: StateDep) -> Principal:
    return authenticate(request, s.keys)


SettingsDep = Annotated[Settings, Depends(_settings)]
SessionDep = Annotated[Session, Depends(_session)]
ClientDep = Annotated[Client, Depends(_client)]
DistrictDep = Annotated[District, Depends(_district)]
PrincipalDep = Annotated[Principal, Depends(_principal)]


def roles(*allowed: Role):
    def check(p: PrincipalDep) -> Principal:
        return require(p, *allowed)

    return Depends(check)


IntakeDep = Annotated[Principal, roles(Role.INTAKE)]
UnitStaffDep = Annotated[Principal, roles(Role.UNIT_STAFF)]
SupervisorDep = Annotated[Principal, roles(Role.SUPERVISOR)]
VerifierDep = Annotated[Principal, roles(Role.SUPERVISOR, Role.VERIFIER)]
StaffDep = Annotated[Principal, roles(Role.SUPERVISOR, Role.UNIT_STAFF, Role.VERIFIER)]
