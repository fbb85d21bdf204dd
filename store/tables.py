"""The database projection of cases (lists, search, statistics) and the intake and outbox rows.

Cases, timeline events, tasks and evaluations are written only by the projection activity and
keyed by (case, seq) / (case, assignment, unit) / (case, round), so a re-run writes nothing new.
Personal data lives only in ``Report``.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

from sqlalchemy import JSON, Column, DateTime, UniqueConstraint
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel


class UTCDateTime(TypeDecorator):
    """Aware UTC instants on every database (SQLite would hand back naive ones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime: every instant in closeloop is timezone-aware")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC) if value is not None else None


def ts(**kw) -> Field:  # type: ignore[valid-type]
    return Field(default=None, sa_column=Column(UTCDateTime(), **kw))


class Report(SQLModel, table=True):
    """信息采集 — the report as a channel sent it, with the citizen's personal data."""

    __table_args__ = (UniqueConstraint("channel", "channel_ref"),)
    id: int | None = Field(default=None, primary_key=True)
    case_code: str = Field(unique=True, index=True)
    channel: str
    channel_ref: str
    name: str = ""
    phone: str = ""
    address: str = ""
    description: str = ""
    photos: list[str] = Field(default_factory=list, sa_column=Column(JSON))
    grid: str
    category_hint: str | None = None
    received_at: datetime | None = ts(nullable=False)
    workflow_started: bool = False
    # 评价凭证: travels only in the citizen's tracking link; staff never see it (unlike the phone's
    # last four digits, which masked views show), so a unit cannot rate its own work.
    citizen_token: str = Field(default_factory=lambda: secrets.token_urlsafe(12))


class CaseRow(SQLModel, table=True):
    """案件 — one row per case, the latest projected state."""

    __tablename__ = "cases"
    case_code: str = Field(primary_key=True)
    channel: str = Field(index=True)
    grid: str = Field(index=True)
    step: str = Field(index=True)
    category: str | None = Field(default=None, index=True)
    level: int | None = None
    policy_version: str | None = None
    lamp: str = "green"
    lead_unit: str | None = Field(default=None, index=True)
    co_units: list[str] = Field(default_factory=list, sa_column=Column(JSON))
    assignment: int = 0
    signed: bool = False
    awaiting: str | None = None
    deadline: datetime | None = ts()
    yellow_at: datetime | None = ts()
    deadline_estimated: bool = False
    returns: int = 0
    reworks: int = 0
    extensions: int = 0
    escalations: int = 0
    reopens: int = 0
    verdict: str | None = None
    primary_case: str | None = None
    reported_at: datetime | None = ts(index=True)
    accepted_at: datetime | None = ts()
    completed_at: datetime | None = ts()
    closed_at: datetime | None = ts()
    close_reason: str | None = None
    last_seq: int = 0
    # 考核 columns, kept here so GROUP BY needs no join (see domain/accounting.py for the 口径):
    overdue_at: datetime | None = ts()  # first time any unit ran over; survives 提级 and a fresh clock
    final_verdict: str | None = None  # the standing verdict: a later 回访 answer overrides the 评价
    reported_day: str | None = Field(default=None, index=True)  # Beijing-time YYYY-MM-DD, for periods
    handling_seconds: float | None = None  # 立案 → 办结 (verified), for average handling time


class TimelineRow(SQLModel, table=True):
    """时间线 — one row per workflow timeline entry."""

    __tablename__ = "timeline"
    __table_args__ = (UniqueConstraint("case_code", "seq"),)
    id: int | None = Field(default=None, primary_key=True)
    case_code: str = Field(index=True)
    seq: int
    at: datetime | None = ts(nullable=False)
    kind: str = Field(index=True)
    role: str
    unit: str | None = None
    user: str | None = None  # who acted (login); null for the system and citizens
    note: str = ""


class TaskRow(SQLModel, table=True):
    """承办任务 — a unit's task in one assignment; the unit inbox lists these."""

    __tablename__ = "tasks"
    __table_args__ = (UniqueConstraint("case_code", "assignment", "unit"),)
    id: int | None = Field(default=None, primary_key=True)
    case_code: str = Field(index=True)
    assignment: int
    unit: str = Field(index=True)
    lead: bool
    status: str = Field(index=True)
    deadline: datetime | None = ts()


class AssignmentRow(SQLModel, table=True):
    """承办记录 — one unit's share of one assignment and what it is charged with (考核 by unit).

    Written by the projection from the whole timeline (``domain/accounting.py``), so a unit that
    returned a case or let it escalate keeps its 退单 / 超期 / 提级."""

    __tablename__ = "assignments"
    __table_args__ = (UniqueConstraint("case_code", "assignment", "unit"),)
    id: int | None = Field(default=None, primary_key=True)
    case_code: str = Field(index=True)
    assignment: int
    unit: str = Field(index=True)
    lead: bool
    started_at: datetime | None = ts(nullable=False)
    deadline: datetime | None = ts()
    ended_at: datetime | None = ts()
    outcome: str | None = Field(default=None, index=True)  # domain.accounting.Outcome; null while held
    completed_at: datetime | None = ts()
    closed: bool = False
    overdue_at: datetime | None = ts()
    worst_lamp: str = "green"
    extensions: int = 0
    reworks: int = 0
    urges: int = 0
    supervised: bool = False
    verdict: str | None = None
    handling_seconds: float | None = None


class EvaluationRow(SQLModel, table=True):
    """评价 (round 0) and 回访 (rounds 1, 2) — the citizen's verdicts."""

    __tablename__ = "evaluations"
    __table_args__ = (UniqueConstraint("case_code", "seq"),)
    id: int | None = Field(default=None, primary_key=True)
    case_code: str = Field(index=True)
    seq: int
    kind: str
    verdict: str
    at: datetime | None = ts(nullable=False)


class OutboxRow(SQLModel, table=True):
    """通知发件箱 — messages waiting for a sender (SMS gateway, WeChat, unit terminal)."""

    __tablename__ = "outbox"
    __table_args__ = (UniqueConstraint("case_code", "key"),)
    id: int | None = Field(default=None, primary_key=True)
    case_code: str = Field(index=True)
    key: str
    audience: str
    unit: str | None = None
    kind: str
    text: str
    created_at: datetime | None = ts(nullable=False)
    sent_at: datetime | None = ts()


class CaseCounter(SQLModel, table=True):
    """专属编码 — the per-day sequence behind case codes like WD-20261124-000042."""

    __tablename__ = "case_counters"
    day: str = Field(primary_key=True)
    value: int = 0


class CitizenComment(SQLModel, table=True):
    """评价意见 — what the citizen wrote with a verdict; free text stays out of Temporal."""

    __tablename__ = "citizen_comments"
    id: int | None = Field(default=None, primary_key=True)
    case_code: str = Field(index=True)
    kind: str  # evaluation / visit
    verdict: str
    comment: str = ""
    at: datetime | None = ts(nullable=False)
