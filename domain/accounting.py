"""考核记账 — who is charged for what: a case's timeline cut into its assignments (派遣轮次).

Each dispatch (派遣, 改派, 提级, 重办) starts an assignment held by one lead unit (主办) and its
co-units (会办). What happens while a unit holds it is charged to that unit: 退单, 超期, 提级,
返工, 延期; closure (办结 verified) and the citizen's verdict go to the unit whose completion was
verified. A unit that returns a task or lets it escalate keeps what it earned: the next unit
starts clean, and a case that once ran over stays "overdue at" the unit it ran over at.

Pure: plain records in, plain records out, so the rules are testable by hand and the projection
(``activities/projection.py``) and a rebuild of old cases run the very same code.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum

from domain.vocabulary import EventKind, Lamp, Verdict


class Outcome(str, Enum):
    """结束原因 — why an assignment ended (``None`` while the unit still holds it)."""

    COMPLETED = "completed"  # 办结且核查通过
    RETURNED = "returned"  # 退单
    ESCALATED = "escalated"  # 提级 to the parent unit
    REASSIGNED = "reassigned"  # 改派 by the center
    REWORKED = "reworked"  # 群众不满意, 重办 (a new assignment to the same unit)
    CLOSED = "closed"  # 结案 while still held (e.g. closed by the center)
    WITHDRAWN = "withdrawn"  # a co-unit's task ended with its assignment


OUTCOME_LABELS = {
    Outcome.COMPLETED: "办结",
    Outcome.RETURNED: "退单",
    Outcome.ESCALATED: "提级",
    Outcome.REASSIGNED: "改派",
    Outcome.REWORKED: "重办",
    Outcome.CLOSED: "结案",
    Outcome.WITHDRAWN: "撤回",
}

LAMP_ORDER = [Lamp.GREEN.value, Lamp.YELLOW.value, Lamp.RED.value]

# Timeline kinds that change what is charged; any other entry (进展, 签收 …) leaves the figures alone.
ACCOUNTING_KINDS = frozenset(
    {
        EventKind.DISPATCHED,
        EventKind.RETURNED,
        EventKind.REASSIGNED,
        EventKind.ESCALATED,
        EventKind.REOPENED,
        EventKind.EXTENSION_APPROVED,
        EventKind.REWORK,
        EventKind.COMPLETED,
        EventKind.CO_UNIT_DONE,
        EventKind.VERIFIED,
        EventKind.CLOSED,
        EventKind.YELLOW,
        EventKind.RED,
        EventKind.URGED,
        EventKind.LADDER_URGE,
        EventKind.LADDER_SUPERVISE,
        EventKind.EVALUATED,
        EventKind.VISITED,
    }
)


@dataclass(frozen=True)
class Entry:
    """One timeline entry as the projection holds it."""

    seq: int
    at: datetime
    kind: str
    unit: str | None = None


@dataclass(frozen=True)
class TaskRecord:
    """One unit's task in an assignment, with the deadline it ended with (extensions included)."""

    assignment: int
    unit: str
    lead: bool
    deadline: datetime | None = None


@dataclass
class Assignment:
    """承办记录 — one unit's share of one assignment, and what it is charged with."""

    assignment: int
    unit: str
    lead: bool
    started_at: datetime
    deadline: datetime | None = None
    ended_at: datetime | None = None
    outcome: Outcome | None = None
    completed_at: datetime | None = None  # the unit's (latest) 办结 report
    closed: bool = False  # its completion was verified and stands (not reopened since)
    overdue_at: datetime | None = None  # when it first ran over; kept after any escalation
    worst_lamp: str = Lamp.GREEN.value
    extensions: int = 0
    reworks: int = 0  # 核查返工 within it, plus 1 when it ended in 重办
    urges: int = 0
    supervised: bool = False
    verdict: str | None = None  # the case's standing verdict, on the closed assignment only

    @property
    def handling_seconds(self) -> float | None:
        if not self.closed or self.completed_at is None:
            return None
        return (self.completed_at - self.started_at).total_seconds()

    def end(self, at: datetime, outcome: Outcome) -> None:
        if self.outcome is None:
            self.ended_at, self.outcome = at, outcome

    def lamp(self, lamp: str) -> None:
        if LAMP_ORDER.index(lamp) > LAMP_ORDER.index(self.worst_lamp):
            self.worst_lamp = lamp


@dataclass
class _Walk:
    """The walk's running state: assignments so far and the ones still held."""

    tasks: dict[tuple[int, str], TaskRecord]
    rows: list[Assignment] = field(default_factory=list)
    number: int = 0

    def held(self) -> list[Assignment]:
        return [a for a in self.rows if a.assignment == self.number and a.outcome is None]

    def lead(self) -> Assignment | None:
        return next((a for a in self.held() if a.lead), None)

    def start(self, entry: Entry) -> None:
        for row in self.held():
            row.end(entry.at, Outcome.REASSIGNED if row.lead else Outcome.WITHDRAWN)
        self.number += 1
        lead = entry.unit or ""
        deadline = self.tasks.get((self.number, lead))
        self.rows.append(Assignment(self.number, lead, True, entry.at, deadline.deadline if deadline else None))
        for task in self.tasks.values():
            if task.assignment == self.number and not task.lead and task.unit != lead:
                self.rows.append(Assignment(self.number, task.unit, False, entry.at, task.deadline))

    def end_all(self, at: datetime, lead_outcome: Outcome) -> None:
        for row in self.held():
            row.end(at, lead_outcome if row.lead else Outcome.WITHDRAWN)


def _on_lead(walk: _Walk, entry: Entry, kind: EventKind) -> None:
    """Entries that charge or settle the assignment the lead unit holds now."""
    lead = walk.lead()
    if lead is None:
        return
    match kind:
        case EventKind.EXTENSION_APPROVED:
            lead.extensions += 1
        case EventKind.REWORK:
            lead.reworks += 1
            lead.completed_at = None
        case EventKind.COMPLETED:
            lead.completed_at = entry.at
        case EventKind.YELLOW:
            lead.lamp(Lamp.YELLOW.value)
        case EventKind.RED:
            lead.lamp(Lamp.RED.value)
            lead.overdue_at = lead.overdue_at or entry.at
        case EventKind.URGED | EventKind.LADDER_URGE:
            lead.urges += 1
        case EventKind.LADDER_SUPERVISE:
            lead.supervised = True


def _step(walk: _Walk, entry: Entry) -> None:
    kind = EventKind(entry.kind)
    match kind:
        case EventKind.DISPATCHED:
            walk.start(entry)
        case EventKind.RETURNED:
            walk.end_all(entry.at, Outcome.RETURNED)
        case EventKind.REASSIGNED:
            walk.end_all(entry.at, Outcome.REASSIGNED)
        case EventKind.ESCALATED if entry.unit:  # without a unit: already at the top, nothing moves
            walk.end_all(entry.at, Outcome.ESCALATED)
        case EventKind.VERIFIED:
            lead = walk.lead()
            if lead is not None:
                lead.closed = True
            walk.end_all(entry.at, Outcome.COMPLETED)
        case EventKind.REOPENED:
            for row in walk.rows:
                if row.closed:  # 重办: the verified completion no longer stands
                    row.closed, row.outcome, row.reworks = False, Outcome.REWORKED, row.reworks + 1
        case EventKind.CLOSED:
            walk.end_all(entry.at, Outcome.CLOSED)
        case EventKind.CO_UNIT_DONE:
            co = next((a for a in walk.held() if not a.lead and a.unit == entry.unit), None)
            if co is not None:
                co.completed_at = entry.at
                co.end(entry.at, Outcome.COMPLETED)
        case _:
            _on_lead(walk, entry, kind)


def assignments_of(entries: Iterable[Entry], tasks: Iterable[TaskRecord], verdict: str | None) -> list[Assignment]:
    """Every assignment of a case from its whole timeline (in ``seq`` order) and its tasks.

    ``verdict`` is the case's standing verdict (:func:`standing_verdict`): it is charged to the
    assignment whose completion was verified. An assignment completed after its deadline counts
    as overdue from the deadline even if the 红灯 timer had not fired yet."""
    walk = _Walk(tasks={(t.assignment, t.unit): t for t in tasks})
    for entry in sorted(entries, key=lambda e: e.seq):
        _step(walk, entry)
    for row in walk.rows:
        if row.deadline is not None and row.completed_at is not None and row.completed_at > row.deadline:
            row.overdue_at = min(row.overdue_at or row.deadline, row.deadline)
        if row.closed and row.lead:
            row.verdict = verdict
    return walk.rows


def standing_verdict(verdicts: Iterable[Verdict | str | None]) -> str | None:
    """评价结果 — the latest real verdict of the evaluation and the return visits, in order given.

    A later 回访 answer overrides the evaluation; "未接通" overrides nothing, but stands alone
    when it is all there is."""
    latest: str | None = None
    for verdict in verdicts:
        if verdict is None:
            continue
        value = Verdict(verdict).value
        if value != Verdict.NO_ANSWER.value or latest is None:
            latest = value
    return latest


def first_overdue(rows: Iterable[Assignment]) -> datetime | None:
    """When the case first ran over at any unit (``None``: never)."""
    instants = [r.overdue_at for r in rows if r.lead and r.overdue_at is not None]
    return min(instants) if instants else None
