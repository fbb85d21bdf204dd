"""Typed inputs and outputs of the activities the workflow calls (one model per call)."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

from pydantic import BaseModel, Field

from domain.messages import CaseView
from domain.policy import Duration, LevelClock, SlaPolicy
from domain.vocabulary import EventKind, WarningLevel


class RoutingRequest(BaseModel):
    """分流 — route a case by category and area, skipping units that returned it."""

    category: str
    grid: str
    exclude: list[str] = Field(default_factory=list)
    level: WarningLevel | None = None
    co_units: list[str] | None = None


class RoutingDecision(BaseModel):
    lead: str
    co_units: list[str]
    level: WarningLevel
    policy: SlaPolicy


class UnitRef(BaseModel):
    code: str | None


class ClockRequest(BaseModel):
    """A fresh clock from ``start``, or (``extend_from`` + ``extra``) an extended one."""

    start: datetime
    level_clock: LevelClock
    sign_limit: Duration
    extend_from: datetime | None = None
    extra: Duration | None = None


class DeadlineRequest(BaseModel):
    start: datetime
    duration: Duration


class Instant(BaseModel):
    at: datetime
    estimated: bool = False


class ProjectionInput(BaseModel):
    """The case state plus the timeline entries not yet projected (keyed by case and seq), and
    the notices those entries caused (written in the same transaction: a transactional outbox)."""

    view: CaseView
    notices: list[Notice] = Field(default_factory=list)


class Audience(str, Enum):
    UNIT = "unit"
    CENTER = "center"
    CITIZEN = "citizen"  # resolved to a phone number from the database, never carried here


class Notice(BaseModel):
    """通知 — one message; ``key`` makes re-sending a no-op."""

    case_code: str
    key: str
    audience: Audience
    unit: str | None = None
    kind: EventKind
    text: str


ProjectionInput.model_rebuild()  # its notices refer to Notice, defined after it
