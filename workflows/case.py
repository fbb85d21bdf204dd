"""The whole case: transitions from both halves of the loop, plus its timers and escalation ladder."""

from __future__ import annotations

from datetime import datetime

from domain.commands import Audience
from domain.messages import SYSTEM, CaseView, ComplaintInput
from domain.vocabulary import EventKind, Lamp, Rung, Step, Verdict
from workflows.aftercare import Aftercare
from workflows.core import Escalate, Notify
from workflows.handling import WORKING, Handling

RUNG_ORDER = list(Rung)
RUNG_NAMES = {r.value for r in Rung}
LADDER_EVENTS = {
    Rung.SIGN_OVERDUE: (EventKind.SIGN_OVERDUE, Audience.UNIT, "签收超时，请尽快签收"),
    Rung.YELLOW: (EventKind.YELLOW, Audience.UNIT, "临近办理时限（黄灯预警）"),
    Rung.RED: (EventKind.RED, Audience.CENTER, "已超过办理时限（红灯）"),
    Rung.URGE: (EventKind.LADDER_URGE, Audience.UNIT, "超期催办，请立即办理"),
    Rung.SUPERVISE: (EventKind.LADDER_SUPERVISE, Audience.CENTER, "超期督办，中心跟踪督办"),
}


class Case(Handling, Aftercare):
    @classmethod
    def collect(cls, inp: ComplaintInput, now: datetime) -> "Case":
        """信息采集 → 案件建立: the case exists and waits for the center to register it."""
        case = cls(CaseView(case_code=inp.case_code, channel=inp.channel, grid=inp.grid, reported_at=inp.reported_at))
        case.record(now, EventKind.COLLECTED, SYSTEM, note=f"渠道 {inp.channel.value}，网格 {inp.grid}")
        case.v.step, case.v.category = Step.CREATE, inp.category_hint
        return case

    def next_timer(self) -> tuple[datetime, str] | None:
        """The earliest pending instant: a rung of the current clock or a named timer."""
        v, due = self.v, []
        if v.step in WORKING and v.clock and not v.awaiting_assignment:
            for rung in RUNG_ORDER:
                if rung in v.fired or (rung == Rung.SIGN_OVERDUE and (v.signed or v.step != Step.DISPATCH)):
                    continue
                due.append((v.clock.at(rung), RUNG_ORDER.index(rung), rung.value))
        due += [(at, len(RUNG_ORDER), name) for name, at in v.timers.items()]
        if not due:
            return None
        at, _, name = min(due)
        return at, name

    def fire_due_rungs(self, now: datetime) -> None:
        """Fire every further ladder rung already due, while what is pending are only notices: the
        lamps and notices of a deadline then reach the projection in one write, not one each."""
        while all(isinstance(effect, Notify) for effect in self.effects):
            due = self.next_timer()
            if not due or due[0] > now or due[1] not in RUNG_NAMES or due[1] == Rung.ESCALATE.value:
                return
            self.fire(due[1], now)

    def fire(self, name: str, now: datetime) -> None:
        v = self.v
        if name in RUNG_NAMES:
            rung = Rung(name)
            v.fired.append(rung)
            if rung == Rung.ESCALATE:
                self.effects.append(Escalate(self.epoch, v.lead_unit or "", "超期自动提级"))
                return
            if rung in (Rung.YELLOW, Rung.RED):
                v.lamp = Lamp.YELLOW if rung == Rung.YELLOW else Lamp.RED
            kind, audience, text = LADDER_EVENTS[rung]
            self.record(now, kind, SYSTEM, unit=v.lead_unit)
            self.notify(audience, v.lead_unit if audience == Audience.UNIT else None, kind, f"{v.case_code} {text}")
            return
        v.timers.pop(name, None)
        self.arming.pop(name, None)
        if name == "verify":
            self.record(now, EventKind.VERIFY_OVERDUE, SYSTEM)
            self.notify(Audience.CENTER, None, EventKind.VERIFY_OVERDUE, f"{v.case_code} 核查超时，请尽快核查")
        elif name == "evaluation":
            self.settle_evaluation(Verdict.NO_ANSWER, now)
        elif name == "visit_due":
            self.visit_due(now)
        elif name == "visit_answer":
            self.settle_visit(Verdict.NO_ANSWER, now)
