"""ComplaintWorkflow — one citizen complaint through the six-step close loop (六步闭环).

The workflow is a small reactor: human actions arrive as Updates (validated against the
current step and unit before anything is written) and change the case at once; what needs
I/O comes back as effects that ``run`` executes as activities, one at a time and in order;
timers are absolute instants held in the state, so an extension or a re-dispatch simply
moves the next wake-up. After each batch the new timeline entries are projected.

Cases started since the ``lean-effects`` patch cost one activity per transition: routing and
deadline arithmetic run as local activities (pure computations over data the worker holds, so
they need no task-queue round trip), and notices travel with the projection, which writes them in
the same transaction as their cause (transactional outbox). Older cases replay the old path.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.deadlines import DeadlineActivities
    from activities.notify import NotifyActivities
    from activities.projection import ProjectionActivities
    from activities.routing import RoutingActivities
    from domain.commands import ClockRequest, DeadlineRequest, Notice, PlanRequest, ProjectionInput, UnitRef
    from domain.errors import Rejection
    from domain.limits import TIMELINE_VIEW_MAX
    from domain.messages import (
        CaseView,
        Clock,
        CloseCase,
        ComplaintInput,
        Completion,
        Decline,
        DuplicateLink,
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
    from domain.vocabulary import STEP_LABELS, EventKind, WarningLevel
    from workflows.case import Case
    from workflows.core import Dispatch, Effect, Escalate, Extend, LinkPrimary, Notify, Plan, Reclock, StartTimer, reject

# Activities retry until they succeed (a database outage pauses the case, it does not fail it);
# only business errors stop them.
RETRY = RetryPolicy(maximum_interval=timedelta(minutes=1), non_retryable_error_types=[Rejection.UNKNOWN_CODE.value])
ACTIVITY = dict(start_to_close_timeout=timedelta(seconds=30), retry_policy=RETRY)
LOCAL_ACTIVITY = dict(start_to_close_timeout=timedelta(seconds=10), retry_policy=RETRY)
LEAN_EFFECTS = "lean-effects"
ESCALATION_RACE = "escalation-race-answers-409"
BATCH_RUNGS = "batch-due-rungs"  # rungs due together are projected together


@workflow.defn
class ComplaintWorkflow:
    @workflow.init
    def __init__(self, inp: ComplaintInput) -> None:
        self.case = Case.collect(inp, workflow.now())
        self._projected = 0
        self._executed = 0
        self._in_flight = 0
        self._lean = False
        self._notices: list[Notice] = []  # written with the next projection (lean path)

    @workflow.run
    async def run(self, inp: ComplaintInput) -> CaseView:
        self._lean = workflow.patched(LEAN_EFFECTS)
        self._batch_rungs = workflow.patched(BATCH_RUNGS)
        while not (self.case.v.step.terminal and not self._has_work() and workflow.all_handlers_finished()):
            await self._drain()
            if self.case.v.step.terminal:
                # Handlers of the final action wait for its effects: keep draining until they return.
                await workflow.wait_condition(lambda: self._has_work() or workflow.all_handlers_finished())
                continue
            now, due = workflow.now(), self.case.next_timer()
            if due and due[0] <= now:
                self.case.fire(due[1], now)
                if self._batch_rungs:
                    self.case.fire_due_rungs(now)
                continue
            try:
                await workflow.wait_condition(self._has_work, timeout=(due[0] - now) if due else None)
            except asyncio.TimeoutError:
                pass
        return self.case.v

    # --- the reactor ---------------------------------------------------------------------------

    def _has_work(self) -> bool:
        return bool(self.case.effects) or self.case.v.seq > self._projected or bool(self._notices)

    async def _drain(self) -> None:
        while self.case.effects:
            self._in_flight = 1
            await self._execute(self.case.effects.pop(0))
            self._executed, self._in_flight = self._executed + 1, 0
        seq = self.case.v.seq
        if seq > self._projected or self._notices:
            fresh = [e for e in self.case.v.timeline if e.seq > self._projected]
            view = self.case.v.model_copy(update={"timeline": fresh})
            notices, self._notices = self._notices, []
            await workflow.execute_activity_method(ProjectionActivities.project, ProjectionInput(view=view, notices=notices),
                                                   **ACTIVITY)
            self._projected = seq

    async def _compute(self, activity, arg):
        """Routing and deadline arithmetic: a local activity on the lean path, a task before it."""
        if self._lean:
            return await workflow.execute_local_activity_method(activity, arg, **LOCAL_ACTIVITY)
        return await workflow.execute_activity_method(activity, arg, **ACTIVITY)

    async def _execute(self, eff: Effect) -> None:
        """Run one effect; results meant for an earlier epoch of the case are dropped."""
        case, v = self.case, self.case.v
        match eff:
            case Plan() if case.current(eff):
                req = PlanRequest(category=v.category or "", grid=v.grid, exclude=eff.exclude, level=v.level, co_units=eff.co_units)
                try:
                    plan = await self._compute(RoutingActivities.plan_case, req)
                except ActivityError as err:
                    if case.current(eff):
                        case.plan_failed(str(err.cause.message if err.cause else err), workflow.now())  # type: ignore[union-attr]
                    return
                level = v.level if v.accepted_at else plan.level
                clock = await self._clock(level, plan.policy if v.policy is None else v.policy)
                if case.current(eff):
                    case.planned(plan, clock, workflow.now())
            case Dispatch() if case.current(eff):
                clock = await self._clock(v.level, v.policy)
                if case.current(eff):
                    case.dispatched(eff.unit, eff.co_units, clock, eff.binding, eff.signed, workflow.now())
            case Escalate() if case.current(eff):
                parent = await self._compute(RoutingActivities.parent_unit, UnitRef(code=eff.unit))
                clock = await self._clock(v.level, v.policy) if parent.code else None
                if case.current(eff):
                    case.escalated(eff, parent.code, clock, workflow.now())
            case Extend() if case.current(eff) and v.clock and v.policy and v.level:
                req = ClockRequest(start=v.clock.started_at, level_clock=v.policy.clock(v.level), sign_limit=v.policy.sign_limit,
                                   extend_from=v.clock.deadline, extra=eff.extra)
                clock = await self._compute(DeadlineActivities.compute_clock, req)
                if case.current(eff):
                    case.reclocked(clock)
            case Reclock() if case.current(eff):
                if not workflow.patched("rework-fresh-clock"):
                    v.clock = eff.previous  # cases started before the rule keep their original clock
                    return
                clock = await self._clock(v.level, v.policy)
                if case.current(eff):
                    case.reclocked(clock)
            case StartTimer():
                req = DeadlineRequest(start=workflow.now(), duration=eff.duration)
                instant = await self._compute(DeadlineActivities.compute_deadline, req)
                case.timer_armed(eff, instant.at)
            case Notify():
                notice = Notice(case_code=v.case_code, key=eff.key, audience=eff.audience, unit=eff.unit, kind=eff.kind, text=eff.text)
                if self._lean:
                    self._notices.append(notice)
                else:
                    await workflow.execute_activity_method(NotifyActivities.notify, notice, **ACTIVITY)
            case LinkPrimary() if case.current(eff):
                primary = workflow.get_external_workflow_handle_for(ComplaintWorkflow.run, eff.primary)
                try:
                    await primary.signal(ComplaintWorkflow.link_duplicate, DuplicateLink(duplicate=v.case_code))
                except Exception as err:  # the primary case does not exist or has ended
                    if case.current(eff):
                        case.merge_failed(eff.primary, str(err), workflow.now())
                    return
                if case.current(eff):
                    case.merged(eff.primary, workflow.now())

    async def _clock(self, level: WarningLevel | None, policy) -> Clock:
        req = ClockRequest(start=workflow.now(), level_clock=policy.clock(level), sign_limit=policy.sign_limit)
        return await self._compute(DeadlineActivities.compute_clock, req)

    async def _settled(self) -> UpdateAck:
        """Answer an update once its effects ran and the projection caught up (read-your-writes)."""
        target = self._executed + self._in_flight + len(self.case.effects)
        await workflow.wait_condition(lambda: self._executed >= target and self._projected >= self.case.v.seq)
        return UpdateAck(case_code=self.case.v.case_code, step=self.case.v.step, seq=self.case.v.seq)

    # --- queries and signals -------------------------------------------------------------------

    @workflow.query
    def view(self) -> CaseView:
        """Current step, assignee, deadlines and lamp, counters and the latest timeline entries:
        at most TIMELINE_VIEW_MAX, so the answer never outgrows a gRPC message however long the case."""
        state = self.case.v
        omitted = max(0, len(state.timeline) - TIMELINE_VIEW_MAX)
        if not omitted:
            return state
        return state.model_copy(update={"timeline": state.timeline[omitted:], "timeline_omitted": omitted})

    @workflow.signal
    def urge(self, s: SupervisorAction) -> None:
        """催办 as a signal — kept for cases whose histories hold one; the API sends ``urge_unit``."""
        self.case.urge(s, workflow.now())

    @workflow.signal
    def link_duplicate(self, d: DuplicateLink) -> None:
        """A duplicate report (重复件) links itself to this case."""
        self.case.link_duplicate(d, workflow.now())

    # --- updates: every human action ---------------------------------------------------------

    @workflow.update
    async def urge_unit(self, s: SupervisorAction) -> UpdateAck:
        """催办 — nudge the unit in charge; refused when it fits no step or repeats within the hour."""
        self.case.urge(s, workflow.now())
        return await self._settled()

    @urge_unit.validator
    def _urge_unit(self, s: SupervisorAction) -> None:
        self.case.check_urge(s, workflow.now())

    @workflow.update
    async def register(self, r: Registration) -> UpdateAck:
        """立案 — accept and classify; routing and dispatch follow."""
        self.case.register(r, workflow.now())
        return await self._settled()

    @register.validator
    def _register(self, r: Registration) -> None:
        self.case.check_register(r)

    @workflow.update
    async def decline(self, d: Decline) -> UpdateAck:
        """不予受理."""
        self.case.decline(d, workflow.now())
        return await self._settled()

    @decline.validator
    def _decline(self, d: Decline) -> None:
        self.case.check_register(d)

    @workflow.update
    async def mark_duplicate(self, m: MarkDuplicate) -> UpdateAck:
        """重复件 — link to the primary case instead of handling it twice."""
        self.case.mark_duplicate(m, workflow.now())
        return await self._settled()

    @mark_duplicate.validator
    def _mark_duplicate(self, m: MarkDuplicate) -> None:
        self.case.check_mark_duplicate(m)

    @workflow.update
    async def sign_for(self, a: UnitAction) -> UpdateAck:
        """签收."""
        self.case.sign_for(a, workflow.now())
        return await self._settled()

    @sign_for.validator
    def _sign_for(self, a: UnitAction) -> None:
        self.case.check_sign_for(a)

    @workflow.update
    async def return_task(self, r: ReturnTask) -> UpdateAck:
        """退单 — re-dispatched automatically, or to the center after the cap."""
        self.case.return_task(r, workflow.now())
        return await self._settled()

    @return_task.validator
    def _return_task(self, r: ReturnTask) -> None:
        self.case.check_return(r)

    @workflow.update
    async def report_progress(self, p: ProgressReport) -> UpdateAck:
        """进展反馈."""
        self.case.report_progress(p, workflow.now())
        return await self._settled()

    @report_progress.validator
    def _report_progress(self, p: ProgressReport) -> None:
        self.case.check_progress(p)

    @workflow.update
    async def request_extension(self, e: ExtensionRequest) -> UpdateAck:
        """延期申请."""
        self.case.request_extension(e, workflow.now())
        return await self._settled()

    @request_extension.validator
    def _request_extension(self, e: ExtensionRequest) -> None:
        self.case.check_extension_request(e)

    @workflow.update
    async def decide_extension(self, d: ExtensionDecision) -> UpdateAck:
        """延期审批 — approval moves the deadline and the ladder behind it."""
        self.case.decide_extension(d, workflow.now())
        return await self._settled()

    @decide_extension.validator
    def _decide_extension(self, d: ExtensionDecision) -> None:
        self.case.check_extension_decision(d)

    @workflow.update
    async def complete_task(self, c: Completion) -> UpdateAck:
        """办结 — the lead unit's result (after every 会办 unit reported), or a co-unit's part."""
        self.case.complete(c, workflow.now())
        return await self._settled()

    @complete_task.validator
    def _complete_task(self, c: Completion) -> None:
        self.case.check_complete(c)

    @workflow.update
    async def reassign(self, r: Reassign) -> UpdateAck:
        """改派 / 指定承办单位."""
        self.case.reassign(r, workflow.now())
        return await self._settled()

    @reassign.validator
    def _reassign(self, r: Reassign) -> None:
        self.case.check_reassign(r)

    @workflow.update
    async def escalate(self, s: SupervisorAction) -> UpdateAck:
        """提级 now, without waiting for the ladder. If the case moved on before the escalation
        ran (the unit completed it meanwhile), the supervisor hears so instead of a silent 200."""
        before = self.case.v.seq
        self.case.escalate_now(s, workflow.now())
        ack = await self._settled()
        if workflow.patched(ESCALATION_RACE) and not any(
                e.kind == EventKind.ESCALATED and e.seq > before for e in self.case.v.timeline):
            raise reject(Rejection.WRONG_STEP, f"案件已进入{STEP_LABELS[self.case.v.step]}，提级未执行")
        return ack

    @escalate.validator
    def _escalate(self, s: SupervisorAction) -> None:
        self.case.check_escalate(s)

    @workflow.update
    async def verify(self, c: Verification) -> UpdateAck:
        """反馈核查 — pass, or 返工."""
        self.case.verify(c, workflow.now())
        return await self._settled()

    @verify.validator
    def _verify(self, c: Verification) -> None:
        self.case.check_verify(c)

    @workflow.update
    async def evaluate(self, e: Evaluation) -> UpdateAck:
        """综合评价 — the citizen's verdict."""
        self.case.evaluate(e, workflow.now())
        return await self._settled()

    @evaluate.validator
    def _evaluate(self, e: Evaluation) -> None:
        self.case.check_evaluate(e)

    @workflow.update
    async def reopen(self, s: SupervisorAction) -> UpdateAck:
        """不满意 → 重新办理."""
        self.case.reopen(s, workflow.now())
        return await self._settled()

    @reopen.validator
    def _reopen(self, s: SupervisorAction) -> None:
        self.case.check_reopen(s)

    @workflow.update
    async def answer_visit(self, e: Evaluation) -> UpdateAck:
        """回访 / 二次回访 answer."""
        self.case.answer_visit(e, workflow.now())
        return await self._settled()

    @answer_visit.validator
    def _answer_visit(self, e: Evaluation) -> None:
        self.case.check_visit(e)

    @workflow.update
    async def close(self, c: CloseCase) -> UpdateAck:
        """结案 with a reason."""
        self.case.close(c, workflow.now())
        return await self._settled()

    @close.validator
    def _close(self, c: CloseCase) -> None:
        self.case.check_close(c)
