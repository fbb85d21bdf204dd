"""Request and response bodies of the API. Actions carry no actor: it comes from the API key."""

from __future__ import annotations

from datetime import datetime
from typing import Generic, TypeVar

from pydantic import BaseModel, Field

from domain.limits import ADDRESS_MAX, NAME_MAX, PROGRESS_MAX, RESULT_MAX, Code, CoUnits, Note, Photos, Reason, text
from domain.messages import CaseView, TimelineEntry
from domain.policy import Duration
from domain.vocabulary import Verdict, WarningLevel

T = TypeVar("T")
PHONE = r"^\+?[0-9]{7,15}$"


class IntakeReport(BaseModel):
    """一条诉求 as an intake channel sends it."""

    channel_ref: text(64, min_length=1) = Field(description="the channel's own reference (工单号)")
    name: text(NAME_MAX) = ""
    phone: str = Field(pattern=PHONE)
    address: text(ADDRESS_MAX) = ""
    grid: Code = Field(description="网格编码")
    description: text(RESULT_MAX, min_length=5)
    photos: Photos = Field(default_factory=list)
    category_hint: Code | None = None


class IntakeAccepted(BaseModel):
    case_code: str
    tracking_url: str = Field(description="for the citizen only: it carries the evaluation token")
    citizen_token: str = Field(description="评价凭证, needed to evaluate and answer return visits")
    status: str = Field(description="started: the workflow runs; queued: stored, starts when Temporal is back")
    new: bool = Field(description="false when this (channel, channel_ref) was already received")


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    page: int
    size: int


class CaseSummary(BaseModel):
    case_code: str
    channel: str
    grid: str
    step: str
    step_label: str
    category: str | None
    level: int | None
    lamp: str
    lead_unit: str | None
    co_units: list[str]
    deadline: datetime | None
    overdue: bool
    returns: int
    reworks: int
    extensions: int
    verdict: str | None
    reported_at: datetime | None
    closed_at: datetime | None


class ReportView(BaseModel):
    name: str
    phone: str
    address: str
    description: str
    photos: list[str]
    masked: bool


class AuditEntry(BaseModel):
    """个人信息查阅记录 — one unmasked read of a reporter's personal data."""

    at: datetime
    user: str
    role: str
    unit: str | None
    case_code: str
    what: str
    why: str
    via: str


class CaseDetail(BaseModel):
    summary: CaseSummary
    report: ReportView
    workflow: CaseView | None = Field(description="live state from the workflow; null while queued")


class TaskItem(BaseModel):
    case_code: str
    assignment: int
    unit: str
    lead: bool
    status: str
    deadline: datetime | None
    lamp: str
    step: str
    category: str | None
    level: int | None
    description: str


class Ack(BaseModel):
    case_code: str
    step: str
    seq: int


# --- action bodies ---------------------------------------------------------------------------


# Every text is bounded (domain/limits.py): the workflow never holds more than a person can type.


class NoteBody(BaseModel):
    note: Note = ""


class ReasonBody(BaseModel):
    reason: Reason


class ProgressBody(BaseModel):
    note: text(PROGRESS_MAX, min_length=1)
    photos: Photos = Field(default_factory=list)


class ExtensionBody(BaseModel):
    extra: Duration
    reason: Reason


class CompleteBody(BaseModel):
    result: text(RESULT_MAX, min_length=2)
    photos: Photos = Field(default_factory=list)


class RegisterBody(BaseModel):
    category: Code
    level: WarningLevel | None = None
    co_units: CoUnits | None = None


class DuplicateBody(BaseModel):
    primary: Code


class ReassignBody(BaseModel):
    unit: Code
    co_units: CoUnits = Field(default_factory=list)
    binding: bool = False
    note: Note = ""


class DecisionBody(BaseModel):
    approve: bool
    note: Note = ""


class VerifyBody(BaseModel):
    passed: bool
    note: Note = ""
    photos: Photos = Field(default_factory=list)


class VerdictBody(BaseModel):
    verdict: Verdict


class AllowedAction(BaseModel):
    name: str = Field(description="the action's name (the page form, the CLI word)")
    label: str
    method: str = "POST"
    path: str


class CitizenVerdict(BaseModel):
    token: str = Field(
        min_length=8,
        max_length=64,
        pattern=r"^[A-Za-z0-9_\-]+$",
        description="the token from the citizen's tracking link",
    )
    verdict: Verdict
    comment: Note = ""


class Progress(BaseModel):
    """What a citizen sees: where the case is, and when each step happened."""

    case_code: str
    step: str
    step_label: str
    awaiting: str | None
    deadline: datetime | None
    timeline: list[TimelineEntry]
