"""督办阶梯 — the escalation ladder in one place: the rungs of an assignment's clock (签收超时,
黄灯, 红灯, 催办, 督办, 提级), what each records and whom it tells, and the center's own 催办 and
提级, which climb the same ladder by hand.

The instants come from the clock (``domain/policy.py`` computes them, working days included);
the workflow wakes at the earliest pending one and fires it here.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from temporalio.exceptions import ApplicationError

from domain.commands import Audience
from domain.errors import Rejection
from domain.messages import SYSTEM, Clock, SupervisorAction
from domain.vocabulary import CENTER_ROLES, OPEN_STEPS, EventKind, Lamp, Rung, Step
from workflows.core import CaseCore, Escalate, Notify, reject

RUNG_ORDER = list(Rung)
RUNG_NAMES = {r.value for r in Rung}
LADDER_EVENTS = {
    Rung.SIGN_OVERDUE: (EventKind.SIGN_OVERDUE, Audience.UNIT, "签收超时，请尽快签收"),
    Rung.YELLOW: (EventKind.YELLOW, Audience.UNIT, "临近办理时限（黄灯预警）"),
    Rung.RED: (EventKind.RED, Audience.CENTER, "已超过办理时限（红灯）"),
    Rung.URGE: (EventKind.LADDER_URGE, Audience.UNIT, "超期催办，请立即办理"),
    Rung.SUPERVISE: (EventKind.LADDER_SUPERVISE, Audience.CENTER, "超期督办，中心跟踪督办"),
}
URGE_QUIET = timedelta(hours=1)  # a supervisor's 催办 repeats at most hourly


class Ladder(CaseCore):
    def rungs_pending(self) -> list[tuple[datetime, int, str]]:
        """(instant, order, rung) of every rung of the current clock still to fire."""
        view, due = self.view, []
        if view.step in OPEN_STEPS and view.clock and not view.awaiting_assignment:
            for rung in RUNG_ORDER:
                if rung in view.fired or (rung == Rung.SIGN_OVERDUE and (view.signed or view.step != Step.DISPATCH)):
                    continue
                due.append((view.clock.at(rung), RUNG_ORDER.index(rung), rung.value))
        return due

    def fire_rung(self, rung: Rung, now: datetime) -> None:
        view = self.view
        view.fired.append(rung)
        if rung == Rung.ESCALATE:
            self.effects.append(Escalate(self.epoch, view.lead_unit or "", "超期自动提级"))
            return
        if rung in (Rung.YELLOW, Rung.RED):
            view.lamp = Lamp.YELLOW if rung == Rung.YELLOW else Lamp.RED
        kind, audience, text = LADDER_EVENTS[rung]
        self.record(now, kind, SYSTEM, unit=view.lead_unit)
        self.notify(audience, view.lead_unit if audience == Audience.UNIT else None, kind, f"{view.case_code} {text}")

    def fire_due_rungs(self, now: datetime) -> None:
        """Fire every further ladder rung already due, while what is pending are only notices: the
        lamps and notices of a deadline then reach the projection in one write, not one each."""
        while all(isinstance(effect, Notify) for effect in self.effects):
            due = self.next_timer()
            if not due or due[0] > now or due[1] not in RUNG_NAMES or due[1] == Rung.ESCALATE.value:
                return
            self.fire_rung(Rung(due[1]), now)

    def restart_rungs(self) -> None:
        """A fresh or moved clock: its rungs fire anew (签收超时 stays fired once signed for)."""
        self.view.fired = [r for r in self.view.fired if r == Rung.SIGN_OVERDUE]

    # --- 催办 and 提级 by hand -----------------------------------------------------------------

    def last_urged(self) -> datetime | None:
        return next((e.at for e in reversed(self.view.timeline) if e.kind == EventKind.URGED), None)

    def check_urge(self, s: SupervisorAction, now: datetime) -> None:
        self.need_role(s.actor, "催办", *CENTER_ROLES)
        self.need_step("催办", *OPEN_STEPS)
        if self.view.lead_unit is None:
            raise reject(Rejection.WRONG_STEP, "案件待指定承办单位，无法催办")
        last = self.last_urged()
        if last is not None and now - last < URGE_QUIET:
            raise reject(Rejection.WRONG_STEP, "该案件一小时内已催办，请勿重复催办")

    def urge(self, s: SupervisorAction, now: datetime) -> None:
        """催办 — a nudge that fits no step, or repeats one from the last hour, is dropped (the
        update's validator refuses it first; signals cannot be refused, and repeated clicks must
        not grow the history without bound)."""
        try:
            self.check_urge(s, now)
        except ApplicationError:
            return
        self.record(now, EventKind.URGED, s.actor, unit=self.view.lead_unit, note=s.note)
        self.notify(
            Audience.UNIT, self.view.lead_unit, EventKind.URGED, f"催办：{self.view.case_code} {s.note}".strip()
        )

    def check_escalate(self, s: SupervisorAction) -> None:
        self.need_role(s.actor, "提级", *CENTER_ROLES)
        self.need_step("提级", *OPEN_STEPS)
        if self.view.lead_unit is None:
            raise reject(Rejection.WRONG_STEP, "案件待指定承办单位，无法提级")

    def escalate_now(self, s: SupervisorAction, now: datetime) -> None:
        self.check_escalate(s)
        self.effects.append(Escalate(self.epoch, self.view.lead_unit or "", s.note or "中心提级督办"))

    def escalated(self, eff: Escalate, parent: str | None, clock: Clock | None, now: datetime) -> None:
        if parent is None or clock is None:
            self.record(now, EventKind.ESCALATED, SYSTEM, note=f"{eff.unit} 已是最高层级，由中心直接督办")
            return
        self.view.escalations += 1
        self.record(now, EventKind.ESCALATED, SYSTEM, unit=parent, note=f"{eff.reason}：由 {eff.unit} 提级至 {parent}")
        self.dispatched(parent, [], clock, binding=True, signed=False, now=now)
