"""反馈核查, 综合评价, 回访, 结案归档 — what follows the unit's completion."""

from __future__ import annotations

from datetime import datetime

from domain.commands import Audience
from domain.errors import Rejection
from domain.labels import VERDICT_LABELS
from domain.messages import SYSTEM, CloseCase, Evaluation, SupervisorAction, Verification
from domain.vocabulary import (
    CENTER_ROLES,
    VERIFIER_ROLES,
    Awaiting,
    EventKind,
    Role,
    Step,
    TaskStatus,
    TimerName,
    Verdict,
    WarningLevel,
)
from workflows.core import CaseCore, Dispatch, Reclock, reject

ANSWERERS = (Role.CITIZEN, *CENTER_ROLES)  # a supervisor may record an answer given by phone


class Aftercare(CaseCore):
    # --- 反馈核查 ---------------------------------------------------------------------------

    def check_verify(self, c: Verification) -> None:
        self.need_role(c.actor, "核查", *VERIFIER_ROLES)
        self.need_step("核查", Step.VERIFY)

    def verify(self, c: Verification, now: datetime) -> None:
        self.check_verify(c)
        view = self.view
        self.cancel_timer(TimerName.VERIFY)
        self.bump()
        if c.passed:
            view.step, view.completed_at, view.awaiting = Step.EVALUATE, now, Awaiting.EVALUATION
            self.record(now, EventKind.VERIFIED, c.actor, note=c.note)
            self.notify(
                Audience.CITIZEN,
                None,
                EventKind.VERIFIED,
                f"您的诉求（{view.case_code}）已办结，请对办理结果进行评价。",
            )
            if view.policy:
                self.start_timer(TimerName.EVALUATION, view.policy.evaluation_window)
            return
        view.reworks += 1
        self.effects.append(Reclock(self.epoch, previous=view.clock))
        view.step, view.clock = Step.HANDLE, None  # the ladder waits for the rework's own clock
        for t in self.current_tasks():
            if t.lead:
                t.status = TaskStatus.SIGNED
        self.record(now, EventKind.REWORK, c.actor, unit=view.lead_unit, note=f"第{view.reworks}次返工：{c.note}")
        self.notify(Audience.UNIT, view.lead_unit, EventKind.REWORK, f"{view.case_code} 核查未通过，请返工：{c.note}")

    # --- 综合评价 ---------------------------------------------------------------------------

    def check_evaluate(self, e: Evaluation) -> None:
        self.need_role(e.actor, "评价", *ANSWERERS)
        self.need_step("评价", Step.EVALUATE)
        self.need_awaiting("评价", Awaiting.EVALUATION)
        if e.verdict == Verdict.NO_ANSWER:
            raise reject(Rejection.INVALID, "请选择满意、基本满意或不满意")

    def evaluate(self, e: Evaluation, now: datetime) -> None:
        self.check_evaluate(e)
        self.settle_evaluation(e.verdict, now, e.actor.role)

    def settle_evaluation(self, verdict: Verdict, now: datetime, role: Role = Role.SYSTEM) -> None:
        view = self.view
        self.cancel_timer(TimerName.EVALUATION)
        view.verdict = verdict
        self.record(
            now,
            EventKind.EVALUATED,
            SYSTEM.model_copy(update={"role": role}),
            note=VERDICT_LABELS[verdict],
            verdict=verdict,
        )
        if verdict == Verdict.DISSATISFIED:
            view.awaiting = Awaiting.DECISION
            self.notify(
                Audience.CENTER, None, EventKind.EVALUATED, f"{view.case_code} 群众不满意，请督办（重办或说明结案）"
            )
        else:
            self.schedule_visit()

    def check_reopen(self, s: SupervisorAction) -> None:
        self.need_role(s.actor, "重新办理", *CENTER_ROLES)
        self.need_step("重新办理", Step.EVALUATE)
        self.need_awaiting("中心对不满意案件的处理", Awaiting.DECISION)

    def reopen(self, s: SupervisorAction, now: datetime) -> None:
        """不满意 → back to 事件处置 with the same units and a fresh clock (no new sign-for)."""
        self.check_reopen(s)
        view = self.view
        view.reopens, view.awaiting, view.completed_at = view.reopens + 1, None, None  # not 办结 until done again
        self.record(now, EventKind.REOPENED, s.actor, unit=view.lead_unit, note=s.note)
        self.effects.append(Dispatch(self.bump(), view.lead_unit or "", list(view.co_units), binding=True, signed=True))

    # --- 回访 -------------------------------------------------------------------------------

    def schedule_visit(self) -> None:
        self.view.awaiting = Awaiting.VISIT_WAIT
        if self.view.policy:
            delay = self.view.policy.second_visit_delay if self.view.visits else self.view.policy.return_visit_delay
            self.start_timer(TimerName.VISIT_DUE, delay)

    def visit_due(self, now: datetime) -> None:
        view = self.view
        view.awaiting = Awaiting.VISIT
        n = len(view.visits) + 1
        self.record(now, EventKind.VISIT_DUE, SYSTEM, note="回访" if n == 1 else "二次回访")
        self.notify(
            Audience.CITIZEN,
            None,
            EventKind.VISIT_DUE,
            f"关于您的诉求（{view.case_code}），请对办理情况进行{'回访' if n == 1 else '二次回访'}答复。",
        )
        if view.policy:
            self.start_timer(TimerName.VISIT_ANSWER, view.policy.visit_window)

    def check_visit(self, e: Evaluation) -> None:
        self.need_role(e.actor, "回访答复", *ANSWERERS)
        self.need_step("回访答复", Step.EVALUATE)
        self.need_awaiting("回访答复", Awaiting.VISIT)
        if e.verdict == Verdict.NO_ANSWER:
            raise reject(Rejection.INVALID, "请选择满意、基本满意或不满意")

    def answer_visit(self, e: Evaluation, now: datetime) -> None:
        self.check_visit(e)
        self.settle_visit(e.verdict, now, e.actor.role)

    def settle_visit(self, verdict: Verdict, now: datetime, role: Role = Role.SYSTEM) -> None:
        view = self.view
        self.cancel_timer(TimerName.VISIT_ANSWER)
        view.visits.append(verdict)
        label = "回访" if len(view.visits) == 1 else "二次回访"
        self.record(
            now,
            EventKind.VISITED,
            SYSTEM.model_copy(update={"role": role}),
            note=f"{label}：{VERDICT_LABELS[verdict]}",
            verdict=verdict,
        )
        needs_second = view.level == WarningLevel.LEVEL_1 or view.reopens > 0
        if len(view.visits) == 1 and needs_second:
            self.schedule_visit()
        else:
            self.archive(now, SYSTEM)

    # --- 结案 -------------------------------------------------------------------------------

    def check_close(self, c: CloseCase) -> None:
        self.need_role(c.actor, "结案", *CENTER_ROLES)
        if self.view.step.terminal or self.view.step == Step.COLLECT:
            self.need_step("结案", Step.CREATE, Step.DISPATCH, Step.HANDLE, Step.VERIFY, Step.EVALUATE)

    def close(self, c: CloseCase, now: datetime) -> None:
        self.check_close(c)
        self.archive(now, c.actor, reason=c.reason)
