"""The whole case: transitions from both halves of the loop, plus its timers and escalation ladder."""

from __future__ import annotations

from datetime import datetime

from domain.commands import Audience
from domain.messages import SYSTEM, CarriedCase, CaseView, ComplaintInput
from domain.vocabulary import EventKind, Rung, Step, TimerName, Verdict
from workflows.aftercare import Aftercare
from workflows.handling import Handling
from workflows.ladder import RUNG_NAMES, RUNG_ORDER, Ladder

CARRIED_TIMELINE = 50  # entries a case carries into its next run: the live view's recent past
CARRIED_UPDATES = 100  # update IDs carried: retries come within minutes, not a hundred actions later


class Case(Handling, Aftercare, Ladder):
    @classmethod
    def collect(cls, inp: ComplaintInput, now: datetime) -> Case:
        """信息采集 → 案件建立: the case exists and waits for the center to register it."""
        case = cls(CaseView(case_code=inp.case_code, channel=inp.channel, grid=inp.grid, reported_at=inp.reported_at))
        case.record(now, EventKind.COLLECTED, SYSTEM, note=f"渠道 {inp.channel.value}，网格 {inp.grid}")
        case.view.step, case.view.category = Step.CREATE, inp.category_hint
        return case

    @classmethod
    def resume(cls, carried: CarriedCase) -> Case:
        """The case as an earlier run of its workflow left it (see :meth:`carry`)."""
        return cls(carried.state, arming=dict(carried.arming), epoch=carried.epoch)

    def carry(self, applied: list[str]) -> CarriedCase:
        """What the next run needs, bounded whatever the case's length: the latest timeline entries
        and the tasks of the current assignment (earlier ones are projected already)."""
        view = self.view
        kept = view.timeline[-CARRIED_TIMELINE:]
        state = view.model_copy(
            update={
                "timeline": kept,
                "timeline_omitted": view.timeline_omitted + len(view.timeline) - len(kept),
                "tasks": self.current_tasks(),
            }
        )
        return CarriedCase(state=state, epoch=self.epoch, arming=dict(self.arming), applied=applied[-CARRIED_UPDATES:])

    def next_timer(self) -> tuple[datetime, str] | None:
        """The earliest pending instant: a rung of the current clock or a named timer."""
        due = self.rungs_pending() + [(at, len(RUNG_ORDER), name) for name, at in self.view.timers.items()]
        if not due:
            return None
        at, _, name = min(due)
        return at, name

    def fire(self, name: str, now: datetime) -> None:
        view = self.view
        if name in RUNG_NAMES:
            self.fire_rung(Rung(name), now)
            return
        view.timers.pop(name, None)
        self.arming.pop(name, None)
        if name == TimerName.VERIFY:
            self.record(now, EventKind.VERIFY_OVERDUE, SYSTEM)
            self.notify(Audience.CENTER, None, EventKind.VERIFY_OVERDUE, f"{view.case_code} 核查超时，请尽快核查")
        elif name == TimerName.EVALUATION:
            self.settle_evaluation(Verdict.NO_ANSWER, now)
        elif name == TimerName.VISIT_DUE:
            self.visit_due(now)
        elif name == TimerName.VISIT_ANSWER:
            self.settle_visit(Verdict.NO_ANSWER, now)
