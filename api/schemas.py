"""Request and response bodies of the API. Actions carry no actor: it comes from the API key."""

from __future__ import annotations

from datetime import datetime
from typing import Generic, TypeVar

from pydantic import BaseModel, Field

from domain.messages import CaseView, TimelineEntry
from domain.policy import Duration
from domain.vocabulary import Verdict, WarningLevel

T = TypeVar("T")
PHONE = r"^\+?[0-9]{7,15}$"


class IntakeReport(BaseModel):
    """一条诉求 as an intake channel sends it."""

    channel_ref: str = Field(min_length=1, max_length=64, description="the channel's own reference (工单号)")
    name: str = Field("", max_length=40)
    phone: str = Field(pattern=PHONE)
    address: str = Field("", max_length=200)
    grid: str = Field(description="网格编码")
    description: str = Field(min_length=5, max_length=4000)
    photos: list[str] = Field(default_factory=list, max_length=9)
    category_hint: str | None = None


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


class NoteBody(BaseModel):
    note: str = Field("", max_length=1000)


class ReasonBody(BaseModel):
    reason: str = Field(min_length=2, max_length=1000)


class ProgressBody(BaseModel):
    note: str = Field(min_length=1, max_length=2000)
    photos: list[str] = Field(default_factory=list, max_length=9)


class ExtensionBody(BaseModel):
    extra: Duration
    reason: str = Field(min_length=2, max_length=1000)


class CompleteBody(BaseModel):
    result: str = Field(min_length=2, max_length=4000)
    photos: list[str] = Field(default_factory=list, max_length=9)


class RegisterBody(BaseModel):
    category: str
    level: WarningLevel | None = None
    co_units: list[str] | None = None


class DuplicateBody(BaseModel):
    primary: str


class ReassignBody(BaseModel):
    unit: str
    co_units: list[str] = Field(default_factory=list)
    binding: bool = False
    note: str = ""


class DecisionBody(BaseModel):
    approve: bool
    note: str = ""


class VerifyBody(BaseModel):
    passed: bool
    note: str = ""
    photos: list[str] = Field(default_factory=list, max_length=9)


class CitizenVerdict(BaseModel):
    token: str = Field(min_length=8, max_length=64, description="the token from the citizen's tracking link")
    verdict: Verdict
    comment: str = Field("", max_length=1000)


class Progress(BaseModel):
    """What a citizen sees: where the case is, and when each step happened."""

    case_code: str
    step: str
    step_label: str
    awaiting: str | None
    deadline: datetime | None
    timeline: list[TimelineEntry]
