"""Dependencies every route declares: settings, database, Temporal client, the caller.

``SessionDep`` is for plain ``def`` routes only (FastAPI runs them in its thread pool). An
``async def`` route must never hold a session: it reads through ``DatabaseDep.run`` and lets the
connection go before it awaits Temporal (``tests/test_concurrency_rules.py`` checks this).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Iterator

from fastapi import Depends, Request
from sqlmodel import Session
from temporalio.client import Client

from api.auth import Principal, authenticate, require
from config import ApiKey, Settings
from domain.district import District
from domain.vocabulary import Role
from store.db import Database


@dataclass
class AppState:
    settings: Settings
    db: Database
    district: District
    client: Client
    keys: dict[str, ApiKey]


def state(request: Request) -> AppState:
    return request.app.state.closeloop


StateDep = Annotated[AppState, Depends(state)]


def _settings(s: StateDep) -> Settings:
    return s.settings


def _session(s: StateDep) -> Iterator[Session]:
    with s.db.reading() as session:
        yield session


def _database(s: StateDep) -> Database:
    return s.db


def _client(s: StateDep) -> Client:
    return s.client


def _district(s: StateDep) -> District:
    return s.district


def _principal(request: Request, s: StateDep) -> Principal:
    return authenticate(request, s.keys)


SettingsDep = Annotated[Settings, Depends(_settings)]
SessionDep = Annotated[Session, Depends(_session)]
DatabaseDep = Annotated[Database, Depends(_database)]
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
