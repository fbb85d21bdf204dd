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

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.deadlines import DeadlineActivities
    from activities.notify import NotifyActivities
    from activities.projection import ProjectionActivities
    from activities.routing import RoutingActivities
    from domain.commands import ClockRequest, DeadlineRequest, Notice, ProjectionInput, RoutingRequest, UnitRef
    from domain.errors import Rejection
    from domain.limits import TIMELINE_VIEW_MAX
    from domain.messages import (
        CaseView,
        Clock,
        ComplaintInput,
        DuplicateLink,
        SupervisorAction,
        UpdateAck,
    )
    from domain.vocabulary import WarningLevel
    from workflows.case import Case
    from workflows.core import Dispatch, Effect, Escalate, Extend, LinkPrimary, Notify, Reclock, Route, StartTimer
    from workflows.human_actions import HumanActions

# Activities retry until they succeed (a database outage pauses the case, it does not fail it);
# only business errors stop them.
RETRY = RetryPolicy(maximum_interval=timedelta(minutes=1), non_retryable_error_types=[Rejection.UNKNOWN_CODE.value])
ACTIVITY = dict(start_to_close_timeout=timedelta(seconds=30), retry_policy=RETRY)
LOCAL_ACTIVITY = dict(start_to_close_timeout=timedelta(seconds=10), retry_policy=RETRY)
LEAN_EFFECTS = "lean-effects"
BATCH_RUNGS = "batch-due-rungs"  # rungs due together are projected together
CONTINUE_AS_NEW = "continue-as-new-when-suggested"


@workflow.defn
class ComplaintWorkflow(HumanActions):
    @workflow.init
    def __init__(self, inp: ComplaintInput) -> None:
        self._input = inp
        self.case = Case.resume(inp.carried) if inp.carried else Case.collect(inp, workflow.now())
        self._projected = self.case.view.seq if inp.carried else 0  # a carried timeline is projected already
        self._earlier_updates = frozenset(inp.carried.applied if inp.carried else ())
        self._applied: list[str] = list(inp.carried.applied) if inp.carried else []
        self._executed = 0
        self._in_flight = 0
        self._lean = False
        self._notices: list[Notice] = []  # written with the next projection (lean path)

    @workflow.run
    async def run(self, inp: ComplaintInput) -> CaseView:
        self._lean = workflow.patched(LEAN_EFFECTS)
        self._batch_rungs = workflow.patched(BATCH_RUNGS)
        while not (self.case.view.step.terminal and not self._has_work() and workflow.all_handlers_finished()):
            await self._drain()
            if self.case.view.step.terminal:
                # Handlers of the final action wait for its effects: keep draining until they return.
                await workflow.wait_condition(lambda: self._has_work() or workflow.all_handlers_finished())
                continue
            if self._long_enough():
                workflow.continue_as_new(self._input.model_copy(update={"carried": self.case.carry(self._applied)}))
            now, due = workflow.now(), self.case.next_timer()
            if due and due[0] <= now:
                self.case.fire(due[1], now)
                if self._batch_rungs:
                    self.case.fire_due_rungs(now)
                continue
            try:
                await workflow.wait_condition(
                    lambda: self._has_work() or self._long_enough(), timeout=(due[0] - now) if due else None
                )
            except TimeoutError:
                pass
        return self.case.view

    # --- the reactor ---------------------------------------------------------------------------

    def _has_work(self) -> bool:
        return bool(self.case.effects) or self.case.view.seq > self._projected or bool(self._notices)

    def _long_enough(self) -> bool:
        """Temporal suggests a new run (the history grew long) and nothing is half done: every
        effect ran, the projection caught up and no action awaits its answer. The patch is asked
        last and only then, so a history recorded before it (no marker) never wakes for this on
        replay: its commands stay exactly as they were."""
        return (
            workflow.info().is_continue_as_new_suggested()
            and not self._has_work()
            and workflow.all_handlers_finished()
            and workflow.patched(CONTINUE_AS_NEW)
        )

    async def _drain(self) -> None:
        while self.case.effects:
            self._in_flight = 1
            await self._execute(self.case.effects.pop(0))
            self._executed, self._in_flight = self._executed + 1, 0
        seq = self.case.view.seq
        if seq > self._projected or self._notices:
            fresh = [e for e in self.case.view.timeline if e.seq > self._projected]
            view = self.case.view.model_copy(update={"timeline": fresh})
            notices, self._notices = self._notices, []
            await workflow.execute_activity_method(
                ProjectionActivities.project, ProjectionInput(view=view, notices=notices), **ACTIVITY
            )
            self._projected = seq

    async def _compute(self, activity, arg):
        """Routing and deadline arithmetic: a local activity on the lean path, a task before it."""
        if self._lean:
            return await workflow.execute_local_activity_method(activity, arg, **LOCAL_ACTIVITY)
        return await workflow.execute_activity_method(activity, arg, **ACTIVITY)

    async def _execute(self, eff: Effect) -> None:
        """Run one effect; results meant for an earlier epoch of the case are dropped."""
        case, view = self.case, self.case.view
        match eff:
            case Route() if case.current(eff):
                await self._route(eff)
            case Dispatch() if case.current(eff):
                clock = await self._clock(view.level, view.policy)
                if case.current(eff):
                    case.dispatched(eff.unit, eff.co_units, clock, eff.binding, eff.signed, workflow.now())
            case Escalate() if case.current(eff):
                parent = await self._compute(RoutingActivities.parent_unit, UnitRef(code=eff.unit))
                clock = await self._clock(view.level, view.policy) if parent.code else None
                if case.current(eff):
                    case.escalated(eff, parent.code, clock, workflow.now())
            case Extend() if case.current(eff) and view.clock and view.policy and view.level:
                req = ClockRequest(
                    start=view.clock.started_at,
                    level_clock=view.policy.clock(view.level),
                    sign_limit=view.policy.sign_limit,
                    extend_from=view.clock.deadline,
                    extra=eff.extra,
                )
                clock = await self._compute(DeadlineActivities.compute_clock, req)
                if case.current(eff):
                    case.reclocked(clock)
            case Reclock() if case.current(eff):
                if not workflow.patched("rework-fresh-clock"):
                    view.clock = eff.previous  # cases started before the rule keep their original clock
                    return
                clock = await self._clock(view.level, view.policy)
                if case.current(eff):
                    case.reclocked(clock)
            case StartTimer():
                req = DeadlineRequest(start=workflow.now(), duration=eff.duration)
                instant = await self._compute(DeadlineActivities.compute_deadline, req)
                case.timer_armed(eff, instant.at)
            case Notify():
                notice = Notice(
                    case_code=view.case_code,
                    key=eff.key,
                    audience=eff.audience,
                    unit=eff.unit,
                    kind=eff.kind,
                    text=eff.text,
                )
                if self._lean:
                    self._notices.append(notice)
                else:
                    await workflow.execute_activity_method(NotifyActivities.notify, notice, **ACTIVITY)
            case LinkPrimary() if case.current(eff):
                await self._link(eff)

    async def _route(self, eff: Route) -> None:
        """分流: route by category and area, then dispatch with a fresh clock."""
        case, view = self.case, self.case.view
        req = RoutingRequest(
            category=view.category or "", grid=view.grid, exclude=eff.exclude, level=view.level, co_units=eff.co_units
        )
        try:
            decision = await self._compute(RoutingActivities.plan_case, req)
        except ActivityError as err:
            if case.current(eff):
                case.routing_failed(str(err.cause.message if err.cause else err), workflow.now())  # type: ignore[union-attr]
            return
        level = view.level if view.accepted_at else decision.level
        clock = await self._clock(level, decision.policy if view.policy is None else view.policy)
        if case.current(eff):
            case.routed(decision, clock, workflow.now())

    async def _link(self, eff: LinkPrimary) -> None:
        """重复件: tell the primary case, then merge into it (or record why not)."""
        case = self.case
        primary = workflow.get_external_workflow_handle_for(ComplaintWorkflow.run, eff.primary)
        try:
            await primary.signal(ComplaintWorkflow.link_duplicate, DuplicateLink(duplicate=case.view.case_code))
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
        await workflow.wait_condition(lambda: self._executed >= target and self._projected >= self.case.view.seq)
        return UpdateAck(case_code=self.case.view.case_code, step=self.case.view.step, seq=self.case.view.seq)

    # --- queries and signals -------------------------------------------------------------------

    @workflow.query
    def view(self) -> CaseView:
        """Current step, assignee, deadlines and lamp, counters and the latest timeline entries:
        at most TIMELINE_VIEW_MAX, so the answer never outgrows a gRPC message however long the case."""
        state = self.case.view
        omitted = max(0, len(state.timeline) - TIMELINE_VIEW_MAX)
        if not omitted:
            return state
        return state.model_copy(
            update={"timeline": state.timeline[omitted:], "timeline_omitted": state.timeline_omitted + omitted}
        )

    @workflow.signal
    def urge(self, s: SupervisorAction) -> None:
        """催办 as a signal — kept for cases whose histories hold one; the API sends ``urge_unit``."""
        self.case.urge(s, workflow.now())

    @workflow.signal
    def link_duplicate(self, d: DuplicateLink) -> None:
        """A duplicate report (重复件) links itself to this case."""
        self.case.link_duplicate(d, workflow.now())
