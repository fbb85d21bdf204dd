"""Typed inputs and outputs of the workflow, its updates and its queries.

No personal data here by design: a case carries its code, channel, grid and category; the
citizen's name, phone and address stay in the database (ARCHITECTURE.md, "One complaint").
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from domain.policy import Duration, SlaPolicy
from domain.vocabulary import Awaiting, Channel, EventKind, Lamp, Role, Rung, Step, TaskStatus, Verdict, WarningLevel


class Actor(BaseModel):
    """操作人 — who acts: a role, the unit a staff member is bound to, and a staff id."""

    role: Role
    unit: str | None = None
    user: str = ""


SYSTEM = Actor(role=Role.SYSTEM, user="closeloop")


class ComplaintInput(BaseModel):
    """信息采集 — what the workflow starts with (the report itself stays in the database)."""

    case_code: str
    channel: Channel
    grid: str = Field(description="the grid (网格) the problem is in")
    category_hint: str | None = Field(None, description="category the channel suggested")
    reported_at: datetime
    carried: CarriedCase | None = Field(None, description="the state a long case continues with in its next run")


# --- 案件建立 (create) -------------------------------------------------------------------------


class Registration(BaseModel):
    """立案 — the center accepts and classifies the case (分类, 分级)."""

    actor: Actor
    category: str
    level: WarningLevel | None = Field(None, description="override of the catalog's level")
    co_units: list[str] | None = Field(None, description="override of the catalog's 会办 units")


class Decline(BaseModel):
    """不予受理 — with the reason the citizen is told."""

    actor: Actor
    reason: str = Field(min_length=2)


class MarkDuplicate(BaseModel):
    """重复件 — link this report to the case already handling the same problem."""

    actor: Actor
    primary: str


class DuplicateLink(BaseModel):
    """Signal a duplicate sends to its primary case."""

    duplicate: str


# --- 任务派遣 / 事件处置 (dispatch, handle) -----------------------------------------------------


class UnitAction(BaseModel):
    """签收 — and the base of every action a unit takes on its task."""

    actor: Actor
    note: str = ""


class ReturnTask(BaseModel):
    """退单 — a unit sends a wrongly routed task back, saying why."""

    actor: Actor
    reason: str = Field(min_length=2)


class ProgressReport(BaseModel):
    """进展反馈."""

    actor: Actor
    note: str = Field(min_length=1)
    photos: list[str] = Field(default_factory=list)


class ExtensionRequest(BaseModel):
    """延期申请 — how much more time, and why."""

    actor: Actor
    extra: Duration
    reason: str = Field(min_length=2)


class ExtensionDecision(BaseModel):
    """延期审批 — a supervisor approves or refuses the pending request."""

    actor: Actor
    approve: bool
    note: str = ""


class Completion(BaseModel):
    """办结 — the unit reports its result (a co-unit reports its part the same way)."""

    actor: Actor
    result: str = Field(min_length=2)
    photos: list[str] = Field(default_factory=list)


class Reassign(BaseModel):
    """改派 / 指定 — the center assigns a unit; binding (不可退单) after repeated returns."""

    actor: Actor
    unit: str
    co_units: list[str] = Field(default_factory=list)
    binding: bool = False
    note: str = ""


class SupervisorAction(BaseModel):
    """催办, 提级, 重办 — a supervisor's action with an optional note."""

    actor: Actor
    note: str = ""


class CloseCase(BaseModel):
    """结案 — a supervisor closes the case with a reason."""

    actor: Actor
    reason: str = Field(min_length=2)


# --- 反馈核查 / 综合评价 (verify, evaluate) ----------------------------------------------------


class Verification(BaseModel):
    """核查 — pass, or 返工 back to the same unit."""

    actor: Actor
    passed: bool
    note: str = ""
    photos: list[str] = Field(default_factory=list)


class Evaluation(BaseModel):
    """评价 / 回访答复 — the citizen's verdict (the comment text goes to the database)."""

    actor: Actor
    verdict: Verdict


# --- state -------------------------------------------------------------------------------------


class TimelineEntry(BaseModel):
    """时间线 — one event of a case; ``seq`` is dense from 1 and keys the projection."""

    seq: int
    at: datetime
    kind: EventKind
    role: Role
    unit: str | None = None
    user: str = Field("", description="the person who acted (their login); empty for the system and citizens")
    note: str = ""
    verdict: Verdict | None = Field(None, description="on 评价 and 回访 entries")


class Clock(BaseModel):
    """One assignment's clock: the deadline and the instants of its escalation rungs."""

    started_at: datetime
    sign_by: datetime
    yellow_at: datetime
    deadline: datetime
    urge_at: datetime
    supervise_at: datetime
    escalate_at: datetime
    estimated: bool = Field(False, description="a year without holiday data was involved")

    def at(self, rung: Rung) -> datetime:
        return getattr(self, {Rung.SIGN_OVERDUE: "sign_by", Rung.RED: "deadline"}.get(rung, f"{rung.value}_at"))


class Task(BaseModel):
    """承办任务 — one unit's task within an assignment (lead 主办 or co-unit 会办)."""

    assignment: int
    unit: str
    lead: bool
    status: TaskStatus = TaskStatus.OPEN
    deadline: datetime | None = None


class CaseView(BaseModel):
    """The case as the workflow knows it: the source of truth for where a case is."""

    case_code: str
    channel: Channel
    grid: str
    step: Step = Step.COLLECT
    category: str | None = None
    level: WarningLevel | None = None
    policy: SlaPolicy | None = None
    lamp: Lamp = Lamp.GREEN
    assignment: int = 0
    lead_unit: str | None = None
    co_units: list[str] = Field(default_factory=list)
    tasks: list[Task] = Field(default_factory=list, description="tasks of the current assignment")
    signed: bool = False
    binding: bool = False
    awaiting_assignment: bool = False
    clock: Clock | None = None
    fired: list[Rung] = Field(default_factory=list, description="rungs fired on this clock")
    returned_by: list[str] = Field(default_factory=list)
    returns: int = 0
    reworks: int = 0
    extensions: int = 0
    escalations: int = 0
    reopens: int = 0
    pending_extension: Duration | None = None
    verdict: Verdict | None = None
    awaiting: Awaiting | None = Field(None, description="what the case waits for within its step")
    visits: list[Verdict] = Field(default_factory=list)
    timers: dict[str, datetime] = Field(
        default_factory=dict, description="pending non-clock timers, keyed by TimerName"
    )
    primary: str | None = None
    duplicates: list[str] = Field(default_factory=list)
    reported_at: datetime
    accepted_at: datetime | None = None
    completed_at: datetime | None = None
    closed_at: datetime | None = None
    close_reason: str | None = None
    timeline: list[TimelineEntry] = Field(default_factory=list)
    timeline_omitted: int = Field(0, description="earliest entries left out of a live view (the projection holds all)")

    @property
    def seq(self) -> int:
        return self.timeline[-1].seq if self.timeline else 0


class CarriedCase(BaseModel):
    """接续 — what a case whose history grew long carries into its next run (continue-as-new):
    its state with the latest timeline entries (the projection holds every one), the epoch and
    timer tokens that keep stale effects out, and the recent update IDs, because Temporal
    deduplicates an update ID within one run only."""

    state: CaseView
    epoch: int
    arming: dict[str, int] = Field(default_factory=dict)
    applied: list[str] = Field(default_factory=list, description="update IDs applied in earlier runs, newest last")


ComplaintInput.model_rebuild()


class UpdateAck(BaseModel):
    """What every human action returns: the step it left the case in and its timeline position."""

    case_code: str
    step: Step
    seq: int
