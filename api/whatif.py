"""时限规则推演 (policy what-if) — what past cases' deadlines, lamps, 超期 and 提级 would have been
under another SLA policy (时限规则) and business calendar (工作日历), beside what really happened.

Pure: no database, no clock (``now`` is injected); the clocks come from the workflow's own
``DeadlineActivities.compute_clock``. Each assignment (派遣, a ``dispatched`` entry up to the next)
is replayed on its recorded instants — units and the center act exactly when they did:

* 起算 at ``dispatched`` (not at 签收); ``rework`` (返工) starts a fresh clock; ``extension_approved``
  (延期) moves the deadline in force by the recorded amount, as the workflow's ``Extend`` does.
* 承办 from the dispatch or rework until 办结 (``completed``), 退单, 改派, 提级 or 结案.
* 推演: 超期 = a holding ended (or ``now`` came) past the deadline in force; 亮灯 = the highest lamp
  reached; 提级 = still held at the escalate instant — the replay of that assignment ends there.
* 实际, from the timeline alone: 超期 = a ``red`` entry while the unit held it (an extension or
  a rework after it does not undo it, as in ``domain/accounting.py``);
  亮灯 = ``yellow``/``red`` entries; 提级 = the ladder's own ``escalated`` entry.

Simplifications (the record cannot tell more; docs/domain.md lists them too): later course is not
rewritten (nothing is invented for the unit above a new 提级; a recorded 提级 the new policy would not
make ends the record there: ``unknown_after``); every rework gets a fresh clock, also in cases
started before that rule; extensions keep their approved amount; the ladder's 提级 is told from a
supervisor's by its note; at the top of the tree (an ``escalated`` entry without a unit) every
提级 counts as the ladder's.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from activities.deadlines import DeadlineActivities
from domain.calendar import BusinessCalendar
from domain.commands import ClockRequest
from domain.messages import Clock
from domain.policy import DURATION_UNIT_LABELS, Duration, SlaPolicy
from domain.vocabulary import EventKind, Lamp, WarningLevel

# Wording the workflow writes into notes (workflows/ladder.py, workflows/handling.py).
LADDER_REASON = "超期自动提级"
_LABEL_UNITS = {label: unit for unit, label in DURATION_UNIT_LABELS.items()}
_EXTENSION = re.compile(
    r"同意延期 (\d+)(" + "|".join(re.escape(x) for x in sorted(_LABEL_UNITS, key=len, reverse=True)) + ")"
)
HOLD_ENDS = {
    EventKind.COMPLETED: "completed",
    EventKind.RETURNED: "returned",
    EventKind.REASSIGNED: "reassigned",
    EventKind.ESCALATED: "escalated",
    EventKind.CLOSED: "closed",
}
RELEVANT_KINDS = frozenset({*HOLD_ENDS, EventKind.DISPATCHED, EventKind.REWORK, EventKind.EXTENSION_APPROVED}) | {
    EventKind.YELLOW,
    EventKind.RED,
}
"""The timeline kinds the replay reads; a caller may load only these."""
_KINDS = frozenset(k.value for k in RELEVANT_KINDS)
_LAMP_RANK = {Lamp.GREEN: 0, Lamp.YELLOW: 1, Lamp.RED: 2}


@dataclass(frozen=True)
class Entry:
    """时间线条目 — the parts of a projected ``TimelineRow`` the replay reads."""

    seq: int
    at: datetime
    kind: str
    unit: str | None = None
    note: str = ""


@dataclass(frozen=True)
class CaseHistory:
    """案件经过 — one case: its 预警等级, the 时限规则 version it ran under, its timeline."""

    case_code: str
    level: int | None
    policy_version: str | None
    entries: tuple[Entry, ...]


@dataclass(frozen=True)
class Outcome:
    """结果 — one assignment's 亮灯 (highest), 超期 and 提级 instant (None: not escalated)."""

    lamp: Lamp = Lamp.GREEN
    overdue: bool = False
    escalated_at: datetime | None = None


@dataclass(frozen=True)
class Span:
    """承办区间 — held by the unit under one clock; ``end`` None: still held."""

    start: datetime
    end: datetime | None
    clock: Clock
    closing: str  # a HOLD_ENDS value, "extension" (the clock moved) or "open"


@dataclass(frozen=True)
class Replay:
    """一次派遣的推演 — an assignment: unit, the new clock last in force, actual vs what-if."""

    case_code: str
    policy_version: str | None
    unit: str
    dispatched_at: datetime
    completed: bool  # its last holding ended in 办结 (as recorded)
    deadline: datetime  # new 办理时限 (the last clock of the replay)
    escalate_at: datetime  # new 提级 instant
    actual: Outcome
    whatif: Outcome
    unknown_after: bool = False  # the record ends at a 提级 the new policy would not make


@dataclass
class UnitFigures:
    """One unit's row: 派遣, 办结, then actual (实际) and what-if (推演) figures."""

    unit: str
    assignments: int = 0
    completed: int = 0
    on_time_actual: int = 0
    on_time_whatif: int = 0
    overdue_actual: int = 0
    overdue_whatif: int = 0
    escalated_actual: int = 0
    escalated_whatif: int = 0
    unknown_after: int = 0

    def rate(self, on_time: int) -> float | None:
        """按期办结率 = 按期办结 ÷ 办结; None (shown as —) without a completion."""
        return on_time / self.completed if self.completed else None

    def add(self, r: Replay) -> None:
        self.assignments += 1
        self.completed += r.completed
        self.on_time_actual += r.completed and not r.actual.overdue
        self.on_time_whatif += r.completed and not (r.whatif.overdue or r.whatif.escalated_at)
        self.overdue_actual += r.actual.overdue
        self.overdue_whatif += r.whatif.overdue
        self.escalated_actual += r.actual.escalated_at is not None
        self.escalated_whatif += r.whatif.escalated_at is not None
        self.unknown_after += r.unknown_after


@dataclass
class WhatIf:
    """推演结果 — per unit and in total, every replayed assignment and what could not be read."""

    policy_version: str
    cases: int
    actual_versions: dict[str, int]  # version → cases (未立案 for none)
    units: list[UnitFigures]
    total: UnitFigures
    replays: list[Replay]
    estimated: bool = False  # a year without holiday data was involved
    warnings: list[str] = field(default_factory=list)


class Clocks:
    """New clocks through the workflow's own ``compute_clock`` (the local activity's code)."""

    def __init__(self, policy: SlaPolicy, calendar: BusinessCalendar) -> None:
        self.policy, self._compute = policy, DeadlineActivities(calendar).compute_clock
        self.estimated = False

    def _run(self, req: ClockRequest) -> Clock:
        clock = self._compute(req)
        self.estimated = self.estimated or clock.estimated
        return clock

    def fresh(self, level: WarningLevel, start: datetime) -> Clock:
        p = self.policy
        return self._run(ClockRequest(start=start, level_clock=p.clock(level), sign_limit=p.sign_limit))

    def extended(self, level: WarningLevel, clock: Clock, extra: Duration) -> Clock:
        p = self.policy
        req = ClockRequest(
            start=clock.started_at,
            level_clock=p.clock(level),
            sign_limit=p.sign_limit,
            extend_from=clock.deadline,
            extra=extra,
        )
        return self._run(req)


def extension_amount(note: str) -> Duration | None:
    """延期时长 from the note the workflow writes (``同意延期 3个工作日 …``); None if unreadable."""
    m = _EXTENSION.match(note)
    return Duration(amount=int(m.group(1)), unit=_LABEL_UNITS[m.group(2)]) if m else None


def assignments(entries: Iterable[Entry]) -> list[list[Entry]]:
    """The timeline cut at each ``dispatched`` entry; what comes before the first is dropped."""
    groups: list[list[Entry]] = []
    for e in sorted(entries, key=lambda e: e.seq):
        if e.kind == EventKind.DISPATCHED:
            groups.append([e])
        elif groups:
            groups[-1].append(e)
    return groups


def _walk(
    group: list[Entry], level: WarningLevel, clocks: Clocks, warn: list[str], code: str
) -> tuple[list[Span], Outcome]:
    """One assignment's holding spans under the new clocks, and its actual outcome."""
    spans: list[Span] = []
    held: datetime | None = None
    clock: Clock | None = None
    red = overdue = False
    lamp, escalated = Lamp.GREEN, None
    for e in group:
        if e.kind not in _KINDS:
            continue
        kind = EventKind(e.kind)
        if kind in (EventKind.DISPATCHED, EventKind.REWORK):
            held, clock, red = e.at, clocks.fresh(level, e.at), False
        elif kind in (EventKind.YELLOW, EventKind.RED):
            lamp = max(lamp, Lamp(kind.value), key=_LAMP_RANK.__getitem__)
            red = red or kind == EventKind.RED
            overdue = overdue or red  # once red, the holding stays 超期 (as /stats counts it), extension or not
        elif held is None or clock is None:
            continue
        elif kind == EventKind.EXTENSION_APPROVED:
            red, extra = False, extension_amount(e.note)
            if extra is None:
                warn.append(f"{code}：第 {e.seq} 条延期记录读不出时长，推演按未延期计")
                continue
            spans.append(Span(held, e.at, clock, "extension"))
            held, clock = e.at, clocks.extended(level, clock, extra)
        elif kind in HOLD_ENDS:
            if kind == EventKind.ESCALATED:
                top = e.unit is None  # 已是最高层级: no parent, the center supervises, the unit keeps it
                if top or e.note.startswith(LADDER_REASON):
                    escalated = escalated or e.at
                if top:
                    continue
            spans.append(Span(held, e.at, clock, HOLD_ENDS[kind]))
            overdue, held = overdue or red, None
    if held is not None and clock is not None:
        spans.append(Span(held, None, clock, "open"))
        overdue = overdue or red
    return spans, Outcome(lamp, overdue, escalated)


def replay_spans(spans: list[Span], now: datetime) -> Outcome:
    """推演: the lamp, 超期 and 提级 the new clocks give the recorded holding spans."""
    lamp, overdue = Lamp.GREEN, False
    for s in spans:
        end = s.end or now
        escalated_at = max(s.clock.escalate_at, s.start) if s.clock.escalate_at <= end else None
        end = min(end, escalated_at) if escalated_at else end
        if end > s.clock.deadline:
            lamp = Lamp.RED
        elif end > s.clock.yellow_at and lamp == Lamp.GREEN:
            lamp = Lamp.YELLOW
        overdue = overdue or ((s.closing != "extension" or escalated_at is not None) and end > s.clock.deadline)
        if escalated_at:
            return Outcome(lamp, overdue, escalated_at)
    return Outcome(lamp, overdue, None)


def replay_case(case: CaseHistory, clocks: Clocks, now: datetime, warn: list[str]) -> list[Replay]:
    """Every assignment of one case, replayed (none for a case never dispatched)."""
    groups = assignments(case.entries)
    if not groups:
        return []
    if case.level not in set(WarningLevel):
        warn.append(f"{case.case_code}：预警等级 {case.level} 无法识别，未推演")
        return []
    out = []
    for group in groups:
        spans, actual = _walk(group, WarningLevel(case.level), clocks, warn, case.case_code)
        if not spans:
            continue
        whatif, last = replay_spans(spans, now), spans[-1]
        cut = last.closing == "escalated" and actual.escalated_at is not None and whatif.escalated_at is None
        out.append(
            Replay(
                case_code=case.case_code,
                policy_version=case.policy_version,
                unit=group[0].unit or "—",
                dispatched_at=group[0].at,
                completed=last.closing == "completed",
                deadline=last.clock.deadline,
                escalate_at=last.clock.escalate_at,
                actual=actual,
                whatif=whatif,
                unknown_after=cut,
            )
        )
    return out


def simulate(cases: Iterable[CaseHistory], policy: SlaPolicy, calendar: BusinessCalendar, now: datetime) -> WhatIf:
    """推演 every case under ``policy`` and ``calendar``; figures per unit (the assignment's lead)."""
    clocks, warn, replays = Clocks(policy, calendar), [], []
    versions: Counter[str] = Counter()
    for case in cases:
        versions[case.policy_version or "未立案"] += 1
        replays += replay_case(case, clocks, now, warn)
    units: dict[str, UnitFigures] = {}
    total = UnitFigures("合计")
    for r in replays:
        units.setdefault(r.unit, UnitFigures(r.unit)).add(r)
        total.add(r)
    return WhatIf(
        policy_version=policy.version,
        cases=sum(versions.values()),
        actual_versions=dict(versions.most_common()),
        units=[units[u] for u in sorted(units)],
        total=total,
        replays=replays,
        estimated=clocks.estimated,
        warnings=warn,
    )
