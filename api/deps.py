"""Dependencies every route declares: settings, database, Temporal client, the caller.

``SessionDep`` is for plain ``def`` routes only (FastAPI runs them in its thread pool). An
``async def`` route must never hold a session: it reads through ``StateDep``'s ``db.run`` and lets the
connection go before it awaits Temporal (``tests/test_concurrency_rules.py`` checks this).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated

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


def _district(s: StateDep) -> District:
    return s.district


def _principal(request: Request, s: StateDep) -> Principal:
    return authenticate(request, s.keys)


SettingsDep = Annotated[Settings, Depends(_settings)]
SessionDep = Annotated[Session, Depends(_session)]
DistrictDep = Annotated[District, Depends(_district)]
PrincipalDep = Annotated[Principal, Depends(_principal)]


def roles(*allowed: Role):
    def check(p: PrincipalDep) -> Principal:
        return require(p, *allowed)

    return Depends(check)


IntakeDep = Annotated[Principal, roles(Role.INTAKE)]
SupervisorDep = Annotated[Principal, roles(Role.SUPERVISOR)]
StaffDep = Annotated[Principal, roles(Role.SUPERVISOR, Role.UNIT_STAFF, Role.VERIFIER)]
