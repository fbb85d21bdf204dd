"""案件状态 — the state of one case, its timeline and the effects its transitions ask for.

Transitions are plain methods so the rules read (and test) without Temporal; the workflow
executes the effects (activities) in order and projects the timeline after them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from temporalio.exceptions import ApplicationError

from domain.commands import Audience
from domain.errors import Rejection
from domain.messages import Actor, CaseView, Clock, TimelineEntry
from domain.policy import Duration
from domain.vocabulary import LOCAL_TZ, STEP_LABELS, Awaiting, EventKind, Role, Step, TaskStatus, TimerName, Verdict

# Effects that act on who holds the case carry the case's epoch when they were asked for; the
# epoch moves whenever the owner or the step changes, so a result that arrives after a close,
# a completion or another dispatch is dropped instead of undoing it.


@dataclass
class Route:
    """Route (again) by category and area, then dispatch with a fresh clock."""

    epoch: int
    exclude: list[str]
    co_units: list[str] | None = None


@dataclass
class Dispatch:
    """Dispatch to a named unit with a fresh clock (reassign, reopen)."""

    epoch: int
    unit: str
    co_units: list[str]
    binding: bool
    signed: bool = False


@dataclass
class Escalate:
    """提级 — re-dispatch to the parent of ``unit``."""

    epoch: int
    unit: str
    reason: str


@dataclass
class Extend:
    """延期 — move this assignment's deadline by ``extra``."""

    epoch: int
    extra: Duration


@dataclass
class Reclock:
    """返工 — the same unit gets a fresh clock: time spent in verification is not its delay.
    ``previous`` is the clock cases started before this rule keep (see the workflow's patch)."""

    epoch: int
    previous: Clock | None = None


@dataclass
class StartTimer:
    """Arm a named timer ``duration`` after now; ``token`` drops it if cancelled meanwhile."""

    name: TimerName
    duration: Duration
    token: int


@dataclass
class Notify:
    audience: Audience
    unit: str | None
    kind: EventKind
    text: str
    key: str = ""


@dataclass
class LinkPrimary:
    epoch: int
    primary: str


Effect = Route | Dispatch | Escalate | Extend | Reclock | StartTimer | Notify | LinkPrimary


def reject(kind: Rejection, message: str) -> ApplicationError:
    return ApplicationError(message, type=kind.value, non_retryable=True)


@dataclass
class CaseCore:
    view: CaseView
    effects: list[Effect] = field(default_factory=list)
    arming: dict[str, int] = field(default_factory=dict)  # TimerName → the token it was armed with
    epoch: int = 0

    def bump(self) -> int:
        """The owner or the step changed: effects asked for before now are stale."""
        self.epoch += 1
        return self.epoch

    def current(self, eff: Route | Dispatch | Escalate | Extend | Reclock | LinkPrimary) -> bool:
        return eff.epoch == self.epoch and not self.view.step.terminal

    # --- timeline and effects --------------------------------------------------------------

    def record(
        self,
        now: datetime,
        kind: EventKind,
        actor: Actor,
        unit: str | None = None,
        note: str = "",
        verdict: Verdict | None = None,
    ) -> None:
        self.view.timeline.append(
            TimelineEntry(
                seq=self.view.seq + 1,
                at=now,
                kind=kind,
                role=actor.role,
                unit=unit or actor.unit,
                user=actor.user if actor.role not in (Role.SYSTEM, Role.CITIZEN) else "",
                note=note,
                verdict=verdict,
            )
        )

    def notify(self, audience: Audience, unit: str | None, kind: EventKind, text: str) -> None:
        # Keyed by the timeline position that caused it: a replayed effect is sent once.
        self.effects.append(Notify(audience, unit, kind, text, key=f"{self.view.seq}-{audience.value}-{unit or ''}"))

    def start_timer(self, name: TimerName, duration: Duration) -> None:
        token = self.view.seq
        self.arming[name] = token
        self.view.timers.pop(name, None)
        self.effects.append(StartTimer(name, duration, token))

    def timer_armed(self, eff: StartTimer, at: datetime) -> None:
        if self.arming.get(eff.name) == eff.token:
            self.view.timers[eff.name] = at

    def cancel_timer(self, name: TimerName | str) -> None:
        self.arming.pop(name, None)
        self.view.timers.pop(name, None)

    # --- checks shared by the validators ---------------------------------------------------

    def need_step(self, action: str, *steps: Step) -> None:
        if self.view.step not in steps:
            raise reject(Rejection.WRONG_STEP, f"案件当前处于「{STEP_LABELS[self.view.step]}」环节，不能{action}")

    def need_role(self, actor: Actor, action: str, *roles: Role) -> None:
        if actor.role not in roles:
            raise reject(Rejection.WRONG_ROLE, f"角色 {actor.role.value} 无权{action}")

    def need_lead(self, actor: Actor, action: str) -> None:
        self.need_role(actor, action, Role.UNIT_STAFF)
        if self.view.lead_unit is None or actor.unit != self.view.lead_unit:
            raise reject(Rejection.WRONG_UNIT, f"该案件不由本单位({actor.unit})主办，不能{action}")

    def need_awaiting(self, action: str, *what: Awaiting | None) -> None:
        if self.view.awaiting not in what:
            raise reject(Rejection.WRONG_STEP, f"案件当前不在等待{action}")

    # --- shared transitions ----------------------------------------------------------------

    def current_tasks(self):
        return [t for t in self.view.tasks if t.assignment == self.view.assignment]

    def withdraw_tasks(self, status: TaskStatus = TaskStatus.WITHDRAWN) -> None:
        for t in self.current_tasks():
            if t.status in (TaskStatus.OPEN, TaskStatus.SIGNED):
                t.status = status

    def archive(self, now: datetime, actor: Actor, reason: str | None = None) -> None:
        """结案归档."""
        self.bump()
        self.withdraw_tasks()
        for name in list(self.view.timers) + list(self.arming):
            self.cancel_timer(name)
        self.view.step, self.view.awaiting, self.view.closed_at, self.view.close_reason = Step.CLOSED, None, now, reason
        self.record(now, EventKind.CLOSED, actor, note=reason or "")
        self.notify(Audience.CITIZEN, None, EventKind.CLOSED, "您的诉求已办结归档，感谢您的参与。")


def clock_note(clock: Clock) -> str:
    local = clock.deadline.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M")
    return f"办理时限至 {local}" + ("（节假日数据缺失，时限为估算）" if clock.estimated else "")
