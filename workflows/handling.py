"""案件建立, 任务派遣, 事件处置 — accept or decline, route, sign for, return, extend, complete."""

from __future__ import annotations

from datetime import datetime

from domain.commands import Audience, RoutingDecision
from domain.errors import Rejection
from domain.messages import (
    SYSTEM,
    Clock,
    Completion,
    Decline,
    DuplicateLink,
    ExtensionDecision,
    ExtensionRequest,
    MarkDuplicate,
    ProgressReport,
    Reassign,
    Registration,
    ReturnTask,
    Task,
    UnitAction,
)
from domain.vocabulary import CENTER_ROLES, OPEN_STEPS, Awaiting, EventKind, Lamp, Role, Step, TaskStatus, TimerName
from workflows.core import CaseCore, Dispatch, Extend, LinkPrimary, Route, clock_note, reject


class Handling(CaseCore):
    # --- 案件建立 ---------------------------------------------------------------------------

    def check_register(self, r: Registration | Decline | MarkDuplicate) -> None:
        self.need_role(r.actor, "立案", *CENTER_ROLES)
        self.need_step("立案", Step.CREATE)
        self.need_awaiting("立案", None)

    def register(self, r: Registration, now: datetime) -> None:
        self.check_register(r)
        self.view.category, self.view.level, self.view.awaiting = r.category, r.level, Awaiting.ROUTING
        self.effects.append(Route(self.bump(), exclude=[], co_units=r.co_units))

    def routed(self, decision: RoutingDecision, clock: Clock, now: datetime) -> None:
        if self.view.accepted_at is None:
            self.view.accepted_at, self.view.level, self.view.policy = now, decision.level, decision.policy
            self.record(
                now,
                EventKind.ACCEPTED,
                SYSTEM,
                note=f"分类 {self.view.category}，{decision.level.value}级，{decision.policy.version}",
            )
        self.dispatched(decision.lead, decision.co_units, clock, binding=False, signed=False, now=now)

    def routing_failed(self, message: str, now: datetime) -> None:
        self.record(now, EventKind.ACTION_FAILED, SYSTEM, note=f"分流失败：{message}")
        if self.view.accepted_at is None:
            self.view.category, self.view.level, self.view.awaiting = None, None, None  # back to 立案
        else:
            self.await_assignment(now)

    def decline(self, d: Decline, now: datetime) -> None:
        self.check_register(d)
        self.bump()
        self.view.step, self.view.closed_at, self.view.close_reason = Step.DECLINED, now, d.reason
        self.record(now, EventKind.DECLINED, d.actor, note=d.reason)
        self.notify(Audience.CITIZEN, None, EventKind.DECLINED, f"您的诉求不予受理：{d.reason}")

    def check_mark_duplicate(self, m: MarkDuplicate) -> None:
        self.check_register(m)
        if m.primary == self.view.case_code:
            raise reject(Rejection.INVALID, "不能关联到本案自身")

    def mark_duplicate(self, m: MarkDuplicate, now: datetime) -> None:
        self.check_mark_duplicate(m)
        self.view.awaiting = Awaiting.MERGE
        self.effects.append(LinkPrimary(self.bump(), m.primary))

    def merged(self, primary: str, now: datetime) -> None:
        self.bump()
        self.view.step, self.view.primary, self.view.awaiting, self.view.closed_at = Step.MERGED, primary, None, now
        self.record(now, EventKind.MERGED, SYSTEM, note=f"并入主案 {primary}")
        self.notify(Audience.CITIZEN, None, EventKind.MERGED, f"您反映的问题已在办理中（案件 {primary}），将一并答复。")

    def merge_failed(self, primary: str, message: str, now: datetime) -> None:
        self.view.awaiting = None
        self.record(now, EventKind.ACTION_FAILED, SYSTEM, note=f"无法关联主案 {primary}：{message}")

    def link_duplicate(self, d: DuplicateLink, now: datetime) -> None:
        if d.duplicate not in self.view.duplicates:
            self.view.duplicates.append(d.duplicate)
            self.record(now, EventKind.DUPLICATE_LINKED, SYSTEM, note=d.duplicate)

    # --- 任务派遣 ---------------------------------------------------------------------------

    def dispatched(
        self, unit: str, co_units: list[str], clock: Clock, binding: bool, signed: bool, now: datetime
    ) -> None:
        self.bump()
        self.cancel_timer(TimerName.VERIFY)
        self.withdraw_tasks()
        view = self.view
        view.assignment += 1
        view.lead_unit, view.co_units, view.clock, view.fired, view.lamp = (
            unit,
            [c for c in co_units if c != unit],
            clock,
            [],
            Lamp.GREEN,
        )
        view.signed, view.binding, view.awaiting_assignment, view.awaiting, view.pending_extension = (
            signed,
            binding,
            False,
            None,
            None,
        )
        view.step = Step.HANDLE if signed else Step.DISPATCH
        view.tasks.append(
            Task(
                assignment=view.assignment,
                unit=unit,
                lead=True,
                status=TaskStatus.SIGNED if signed else TaskStatus.OPEN,
                deadline=clock.deadline,
            )
        )
        view.tasks += [
            Task(assignment=view.assignment, unit=c, lead=False, deadline=clock.deadline) for c in view.co_units
        ]
        co = f"，会办 {'、'.join(view.co_units)}" if view.co_units else ""
        self.record(now, EventKind.DISPATCHED, SYSTEM, unit=unit, note=f"主办 {unit}{co}；{clock_note(clock)}")
        for u in [unit, *view.co_units]:
            self.notify(Audience.UNIT, u, EventKind.DISPATCHED, f"新派遣任务 {view.case_code}，{clock_note(clock)}")

    def await_assignment(self, now: datetime) -> None:
        self.bump()
        view = self.view
        view.awaiting_assignment, view.lead_unit, view.clock, view.step = True, None, None, Step.DISPATCH
        self.record(now, EventKind.AWAITING_ASSIGNMENT, SYSTEM, note=f"已退单 {view.returns} 次，待中心指定承办单位")
        self.notify(
            Audience.CENTER, None, EventKind.AWAITING_ASSIGNMENT, f"案件 {view.case_code} 多次退单，请指定承办单位"
        )

    def check_sign_for(self, a: UnitAction) -> None:
        self.need_step("签收", Step.DISPATCH)
        self.need_lead(a.actor, "签收")

    def sign_for(self, a: UnitAction, now: datetime) -> None:
        self.check_sign_for(a)
        self.view.signed, self.view.step = True, Step.HANDLE
        for t in self.current_tasks():
            if t.lead:
                t.status = TaskStatus.SIGNED
        self.record(now, EventKind.SIGNED, a.actor, note=a.note)

    def check_return(self, r: ReturnTask) -> None:
        self.need_step("退单（已签收的任务不能退单）", Step.DISPATCH)
        self.need_lead(r.actor, "退单")
        if self.view.binding:
            raise reject(Rejection.WRONG_STEP, "该任务为中心指定或提级派遣，不能退单")

    def return_task(self, r: ReturnTask, now: datetime) -> None:
        self.check_return(r)
        view = self.view
        view.returns += 1
        view.returned_by.append(r.actor.unit or "")
        self.withdraw_tasks()
        for t in self.current_tasks():
            if t.lead:
                t.status = TaskStatus.RETURNED
        self.record(now, EventKind.RETURNED, r.actor, note=r.reason)
        if view.policy and view.returns >= view.policy.max_returns:
            self.await_assignment(now)
        else:
            view.lead_unit, view.clock = None, None
            self.effects.append(Route(self.bump(), exclude=list(view.returned_by), co_units=list(view.co_units)))

    # --- 事件处置 ---------------------------------------------------------------------------

    def check_progress(self, p: ProgressReport) -> None:
        self.need_step("反馈进展", *OPEN_STEPS)
        if p.actor.role == Role.UNIT_STAFF and p.actor.unit in self.view.co_units:
            return
        self.need_lead(p.actor, "反馈进展")

    def report_progress(self, p: ProgressReport, now: datetime) -> None:
        self.check_progress(p)
        self.record(now, EventKind.PROGRESS, p.actor, note=p.note)

    def check_extension_request(self, e: ExtensionRequest) -> None:
        self.need_step("申请延期", Step.HANDLE)
        self.need_lead(e.actor, "申请延期")
        if self.view.pending_extension is not None:
            raise reject(Rejection.WRONG_STEP, "已有待审批的延期申请")
        cap = self.view.policy.max_extension if self.view.policy else None
        if e.extra.amount <= 0 or (cap and (e.extra.unit != cap.unit or e.extra.amount > cap.amount)):
            raise reject(Rejection.INVALID, f"延期时长须为正数且不超过 {cap}")

    def request_extension(self, e: ExtensionRequest, now: datetime) -> None:
        self.check_extension_request(e)
        self.view.pending_extension = e.extra
        self.record(now, EventKind.EXTENSION_REQUESTED, e.actor, note=f"申请延期 {e.extra}：{e.reason}")
        self.notify(Audience.CENTER, None, EventKind.EXTENSION_REQUESTED, f"{self.view.case_code} 申请延期 {e.extra}")

    def check_extension_decision(self, d: ExtensionDecision) -> None:
        self.need_role(d.actor, "审批延期", *CENTER_ROLES)
        self.need_step("审批延期", *OPEN_STEPS)
        if self.view.pending_extension is None:
            raise reject(Rejection.WRONG_STEP, "没有待审批的延期申请")

    def decide_extension(self, d: ExtensionDecision, now: datetime) -> None:
        self.check_extension_decision(d)
        extra, self.view.pending_extension = self.view.pending_extension, None
        if d.approve:
            self.view.extensions += 1
            self.record(
                now,
                EventKind.EXTENSION_APPROVED,
                d.actor,
                unit=self.view.lead_unit,
                note=f"同意延期 {extra} {d.note}".strip(),
            )
            self.effects.append(Extend(self.epoch, extra))
        else:
            self.record(now, EventKind.EXTENSION_REFUSED, d.actor, unit=self.view.lead_unit, note=d.note)
        self.notify(
            Audience.UNIT,
            self.view.lead_unit,
            EventKind.EXTENSION_APPROVED if d.approve else EventKind.EXTENSION_REFUSED,
            f"{self.view.case_code} 延期申请{'已同意' if d.approve else '未同意'} {d.note}".strip(),
        )

    def reclocked(self, clock: Clock) -> None:
        """A fresh or moved clock for the current assignment; its rungs fire anew from it."""
        self.view.clock, self.view.lamp = clock, Lamp.GREEN
        self.restart_rungs()
        for t in self.current_tasks():
            t.deadline = clock.deadline

    def check_complete(self, c: Completion) -> None:
        self.need_step("办结", *OPEN_STEPS)
        a, view = c.actor, self.view
        if a.role == Role.UNIT_STAFF and a.unit in view.co_units:
            if any(t.unit == a.unit and t.status == TaskStatus.DONE for t in self.current_tasks()):
                raise reject(Rejection.WRONG_STEP, "本单位会办部分已反馈")
            return
        self.need_lead(a, "办结")
        self.need_step("办结（请先签收）", Step.HANDLE)
        open_co = [t.unit for t in self.current_tasks() if not t.lead and t.status != TaskStatus.DONE]
        if open_co:
            raise reject(Rejection.WRONG_STEP, f"会办单位尚未反馈：{'、'.join(open_co)}")

    def complete(self, c: Completion, now: datetime) -> None:
        self.check_complete(c)
        lead = c.actor.unit == self.view.lead_unit
        for t in self.current_tasks():
            if t.unit == c.actor.unit:
                t.status = TaskStatus.DONE
        if not lead:
            self.record(now, EventKind.CO_UNIT_DONE, c.actor, note=c.result)
            return
        self.bump()
        self.view.step = Step.VERIFY
        self.record(now, EventKind.COMPLETED, c.actor, note=c.result)
        self.notify(Audience.CENTER, None, EventKind.COMPLETED, f"{self.view.case_code} 已办结，请核查")
        if self.view.policy:
            self.start_timer(TimerName.VERIFY, self.view.policy.verify_limit)

    # --- 改派 (supervisor) -------------------------------------------------------------------

    def check_reassign(self, r: Reassign) -> None:
        self.need_role(r.actor, "改派", *CENTER_ROLES)
        self.need_step("改派", *OPEN_STEPS)
        if r.unit == self.view.lead_unit:
            raise reject(Rejection.INVALID, "改派单位与当前主办单位相同")

    def reassign(self, r: Reassign, now: datetime) -> None:
        self.check_reassign(r)
        binding = r.binding or self.view.awaiting_assignment
        self.record(
            now, EventKind.REASSIGNED, r.actor, unit=r.unit, note=("中心指定，不可退单 " if binding else "") + r.note
        )
        # The old unit lets go at once: it can no longer act on a task that is being moved.
        self.withdraw_tasks()
        self.view.lead_unit, self.view.clock, self.view.signed = None, None, False
        self.effects.append(Dispatch(self.bump(), r.unit, r.co_units, binding=binding))
