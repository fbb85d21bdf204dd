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

from api import scope
from api.auth import Principal, authenticate, require
from config import ApiKey, Settings
from domain.district import District
from domain.vocabulary import CENTER_ROLES, Role
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
    """A ``def`` dependency: a key kept in the database is looked up on FastAPI's thread pool."""
    return authenticate(request, s.keys, s.db)


SettingsDep = Annotated[Settings, Depends(_settings)]
SessionDep = Annotated[Session, Depends(_session)]
DistrictDep = Annotated[District, Depends(_district)]
PrincipalDep = Annotated[Principal, Depends(_principal)]


def roles(*allowed: Role):
    def check(p: PrincipalDep) -> Principal:
        return require(p, *allowed)

    return Depends(check)


def in_scope(*allowed: Role):
    """The caller, if their role may do this and the case ``{code}`` is in their scope (403 otherwise,
    before the body or the case's step is looked at: see ``api/scope.py``)."""

    async def check(code: str, p: PrincipalDep, s: StateDep) -> Principal:
        require(p, *allowed)
        if p.role not in CENTER_ROLES:
            scope.check(p, s.district, await s.db.run(scope.case_scope, s.db, code))
        return p

    return Depends(check)


IntakeDep = Annotated[Principal, roles(Role.INTAKE)]
SupervisorDep = Annotated[Principal, roles(Role.SUPERVISOR)]
STAFF = (Role.SUPERVISOR, Role.UNIT_STAFF, Role.VERIFIER)
StaffDep = Annotated[Principal, roles(*STAFF)]
CaseStaffDep = Annotated[Principal, in_scope(*STAFF)]
