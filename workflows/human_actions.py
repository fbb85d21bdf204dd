"""人工操作 — every human action as a Workflow Update, and what a caller may do now.

Each update has a validator named after it (``_register`` validates ``register``): it refuses
before anything enters history, and ``allowed_actions`` dry-runs the same validators for a caller.
A handler applies its transition at once and answers once its effects ran and the projection
caught up (``_settled``, in the reactor). An update ID applied by an earlier run (before
continue-as-new) is answered, not applied again.
"""

from __future__ import annotations

import inspect
import typing

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from domain.errors import Rejection
    from domain.messages import (
        Actor,
        CloseCase,
        Completion,
        Decline,
        Evaluation,
        ExtensionDecision,
        ExtensionRequest,
        MarkDuplicate,
        ProgressReport,
        Reassign,
        Registration,
        ReturnTask,
        SupervisorAction,
        UnitAction,
        UpdateAck,
        Verification,
    )
    from domain.vocabulary import STEP_LABELS, EventKind
    from workflows.case import Case
    from workflows.core import reject

ESCALATION_RACE = "escalation-race-answers-409"


class HumanActions:
    """The updates of ``ComplaintWorkflow``; the reactor that runs their effects is the subclass."""

    case: Case
    _earlier_updates: frozenset[str]
    _applied: list[str]

    async def _settled(self) -> UpdateAck:  # the reactor's: answer once effects and projection caught up
        raise NotImplementedError

    def _again(self) -> bool:
        """This update was applied by an earlier run of the case: Temporal deduplicates update IDs
        within one run only, so a retry that lands after continue-as-new is answered, not re-applied."""
        info = workflow.current_update_info()
        return info is not None and info.id in self._earlier_updates

    def _check(self, check, *args) -> None:
        if not self._again():
            check(*args)

    async def _apply(self, transition, arg) -> UpdateAck:
        if not self._again():
            transition(arg, workflow.now())
            info = workflow.current_update_info()
            if info is not None:
                self._applied.append(info.id)
        return await self._settled()

    @workflow.query
    def allowed_actions(self, actor: Actor) -> list[str]:
        """The updates ``actor`` may send now: each update's validator dry-run with the actor and no
        content. A refusal for the step, the role or the unit hides it; a refusal of content (which
        the caller has not typed yet) does not. Pages and clients ask this instead of copying rules."""
        allowed = []
        for name, (validator, message) in _UPDATE_CHECKS.items():
            try:
                validator(self, message.model_construct(actor=actor))
            except ApplicationError as refusal:
                if refusal.type in _NOT_NOW:
                    continue
            except Exception:  # the check read content the probe does not carry: content decides
                pass
            allowed.append(name)
        return allowed

    # --- updates: every human action ---------------------------------------------------------

    @workflow.update
    async def urge_unit(self, s: SupervisorAction) -> UpdateAck:
        """催办 — nudge the unit in charge; refused when it fits no step or repeats within the hour."""
        return await self._apply(self.case.urge, s)

    @urge_unit.validator
    def _urge_unit(self, s: SupervisorAction) -> None:
        self._check(self.case.check_urge, s, workflow.now())

    @workflow.update
    async def register(self, r: Registration) -> UpdateAck:
        """立案 — accept and classify; routing and dispatch follow."""
        return await self._apply(self.case.register, r)

    @register.validator
    def _register(self, r: Registration) -> None:
        self._check(self.case.check_register, r)

    @workflow.update
    async def decline(self, d: Decline) -> UpdateAck:
        """不予受理."""
        return await self._apply(self.case.decline, d)

    @decline.validator
    def _decline(self, d: Decline) -> None:
        self._check(self.case.check_register, d)

    @workflow.update
    async def mark_duplicate(self, m: MarkDuplicate) -> UpdateAck:
        """重复件 — link to the primary case instead of handling it twice."""
        return await self._apply(self.case.mark_duplicate, m)

    @mark_duplicate.validator
    def _mark_duplicate(self, m: MarkDuplicate) -> None:
        self._check(self.case.check_mark_duplicate, m)

    @workflow.update
    async def sign_for(self, a: UnitAction) -> UpdateAck:
        """签收."""
        return await self._apply(self.case.sign_for, a)

    @sign_for.validator
    def _sign_for(self, a: UnitAction) -> None:
        self._check(self.case.check_sign_for, a)

    @workflow.update
    async def return_task(self, r: ReturnTask) -> UpdateAck:
        """退单 — re-dispatched automatically, or to the center after the cap."""
        return await self._apply(self.case.return_task, r)

    @return_task.validator
    def _return_task(self, r: ReturnTask) -> None:
        self._check(self.case.check_return, r)

    @workflow.update
    async def report_progress(self, p: ProgressReport) -> UpdateAck:
        """进展反馈."""
        return await self._apply(self.case.report_progress, p)

    @report_progress.validator
    def _report_progress(self, p: ProgressReport) -> None:
        self._check(self.case.check_progress, p)

    @workflow.update
    async def request_extension(self, e: ExtensionRequest) -> UpdateAck:
        """延期申请."""
        return await self._apply(self.case.request_extension, e)

    @request_extension.validator
    def _request_extension(self, e: ExtensionRequest) -> None:
        self._check(self.case.check_extension_request, e)

    @workflow.update
    async def decide_extension(self, d: ExtensionDecision) -> UpdateAck:
        """延期审批 — approval moves the deadline and the ladder behind it."""
        return await self._apply(self.case.decide_extension, d)

    @decide_extension.validator
    def _decide_extension(self, d: ExtensionDecision) -> None:
        self._check(self.case.check_extension_decision, d)

    @workflow.update
    async def complete_task(self, c: Completion) -> UpdateAck:
        """办结 — the lead unit's result (after every 会办 unit reported), or a co-unit's part."""
        return await self._apply(self.case.complete, c)

    @complete_task.validator
    def _complete_task(self, c: Completion) -> None:
        self._check(self.case.check_complete, c)

    @workflow.update
    async def reassign(self, r: Reassign) -> UpdateAck:
        """改派 / 指定承办单位."""
        return await self._apply(self.case.reassign, r)

    @reassign.validator
    def _reassign(self, r: Reassign) -> None:
        self._check(self.case.check_reassign, r)

    @workflow.update
    async def escalate(self, s: SupervisorAction) -> UpdateAck:
        """提级 now, without waiting for the ladder. If the case moved on before the escalation
        ran (the unit completed it meanwhile), the supervisor hears so instead of a silent 200."""
        before = self.case.view.seq
        ack = await self._apply(self.case.escalate_now, s)
        if (
            not self._again()
            and workflow.patched(ESCALATION_RACE)
            and not any(e.kind == EventKind.ESCALATED and e.seq > before for e in self.case.view.timeline)
        ):
            raise reject(Rejection.WRONG_STEP, f"案件已进入{STEP_LABELS[self.case.view.step]}，提级未执行")
        return ack

    @escalate.validator
    def _escalate(self, s: SupervisorAction) -> None:
        self._check(self.case.check_escalate, s)

    @workflow.update
    async def verify(self, c: Verification) -> UpdateAck:
        """反馈核查 — pass, or 返工."""
        return await self._apply(self.case.verify, c)

    @verify.validator
    def _verify(self, c: Verification) -> None:
        self._check(self.case.check_verify, c)

    @workflow.update
    async def evaluate(self, e: Evaluation) -> UpdateAck:
        """综合评价 — the citizen's verdict."""
        return await self._apply(self.case.evaluate, e)

    @evaluate.validator
    def _evaluate(self, e: Evaluation) -> None:
        self._check(self.case.check_evaluate, e)

    @workflow.update
    async def reopen(self, s: SupervisorAction) -> UpdateAck:
        """不满意 → 重新办理."""
        return await self._apply(self.case.reopen, s)

    @reopen.validator
    def _reopen(self, s: SupervisorAction) -> None:
        self._check(self.case.check_reopen, s)

    @workflow.update
    async def answer_visit(self, e: Evaluation) -> UpdateAck:
        """回访 / 二次回访 answer."""
        return await self._apply(self.case.answer_visit, e)

    @answer_visit.validator
    def _answer_visit(self, e: Evaluation) -> None:
        self._check(self.case.check_visit, e)

    @workflow.update
    async def close(self, c: CloseCase) -> UpdateAck:
        """结案 with a reason."""
        return await self._apply(self.case.close, c)

    @close.validator
    def _close(self, c: CloseCase) -> None:
        self._check(self.case.check_close, c)


_NOT_NOW = {Rejection.WRONG_STEP.value, Rejection.WRONG_ROLE.value, Rejection.WRONG_UNIT.value}


def _update_checks(cls: type) -> dict[str, tuple[typing.Callable, type]]:
    """Every update with its validator and argument type; update ``x`` is validated by ``_x``, and a
    class that breaks the convention fails here, at import, not silently in ``allowed_actions``."""
    checks = {}
    for name, member in vars(cls).items():
        if name.startswith("_") or not callable(getattr(member, "validator", None)):
            continue
        validator = vars(cls).get(f"_{name}")
        if validator is None or inspect.iscoroutinefunction(validator):
            raise TypeError(f"update {name} needs its validator _{name} (a plain method)")
        argument = next(iter(typing.get_type_hints(validator).values()))
        checks[name] = (validator, argument)
    return checks


_UPDATE_CHECKS = _update_checks(HumanActions)
