"""案件建立, 任务派遣, 事件处置 — accept or decline, route, sign for, return, extend, complete."""

from __future__ import annotations

from datetime import datetime, timedelta

from domain.commands import Audience, CasePlan
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
    SupervisorAction,
    Task,
    UnitAction,
)
from domain.vocabulary import EventKind, Lamp, Role, Step
from workflows.core import CENTER_ROLES, CaseCore, Dispatch, Escalate, Extend, LinkPrimary, Plan, clock_note, reject

WORKING = (Step.DISPATCH, Step.HANDLE)
URGE_QUIET = timedelta(hours=1)


class Handling(CaseCore):
    # --- 案件建立 ---------------------------------------------------------------------------

    def check_register(self, r: Registration | Decline | MarkDuplicate) -> None:
        self.need_role(r.actor, "立案", *CENTER_ROLES)
        self.need_step("立案", Step.CREATE)
        self.need_awaiting("立案", None)

    def register(self, r: Registration, now: datetime) -> None:
        self.check_register(r)
        self.v.category, self.v.level, self.v.awaiting = r.category, r.level, "routing"
        self.effects.append(Plan(self.bump(), exclude=[], co_units=r.co_units))

    def planned(self, plan: CasePlan, clock: Clock, now: datetime) -> None:
        if self.v.accepted_at is None:
            self.v.accepted_at, self.v.level, self.v.policy = now, plan.level, plan.policy
            self.record(now, EventKind.ACCEPTED, SYSTEM, note=f"分类 {self.v.category}，{plan.level.value}级，{plan.policy.version}")
        self.dispatched(plan.lead, plan.co_units, clock, binding=False, signed=False, now=now)

    def plan_failed(self, message: str, now: datetime) -> None:
        self.record(now, EventKind.ACTION_FAILED, SYSTEM, note=f"分流失败：{message}")
        if self.v.accepted_at is None:
            self.v.category, self.v.level, self.v.awaiting = None, None, None  # back to 立案
        else:
            self.await_assignment(now)

    def decline(self, d: Decline, now: datetime) -> None:
        self.check_register(d)
        self.bump()
        self.v.step, self.v.closed_at, self.v.close_reason = Step.DECLINED, now, d.reason
        self.record(now, EventKind.DECLINED, d.actor, note=d.reason)
        self.notify(Audience.CITIZEN, None, EventKind.DECLINED, f"您的诉求不予受理：{d.reason}")

    def check_mark_duplicate(self, m: MarkDuplicate) -> None:
        self.check_register(m)
        if m.primary == self.v.case_code:
            raise reject(Rejection.INVALID, "不能关联到本案自身")

    def mark_duplicate(self, m: MarkDuplicate, now: datetime) -> None:
        self.check_mark_duplicate(m)
        self.v.awaiting = "merge"
        self.effects.append(LinkPrimary(self.bump(), m.primary))

    def merged(self, primary: str, now: datetime) -> None:
        self.bump()
        self.v.step, self.v.primary, self.v.awaiting, self.v.closed_at = Step.MERGED, primary, None, now
        self.record(now, EventKind.MERGED, SYSTEM, note=f"并入主案 {primary}")
        self.notify(Audience.CITIZEN, None, EventKind.MERGED, f"您反映的问题已在办理中（案件 {primary}），将一并答复。")

    def merge_failed(self, primary: str, message: str, now: datetime) -> None:
        self.v.awaiting = None
        self.record(now, EventKind.ACTION_FAILED, SYSTEM, note=f"无法关联主案 {primary}：{message}")

    def link_duplicate(self, d: DuplicateLink, now: datetime) -> None:
        if d.duplicate not in self.v.duplicates:
            self.v.duplicates.append(d.duplicate)
            self.record(now, EventKind.DUPLICATE_LINKED, SYSTEM, note=d.duplicate)

    # --- 任务派遣 ---------------------------------------------------------------------------

    def dispatched(self, unit: str, co_units: list[str], clock: Clock, binding: bool, signed: bool, now: datetime) -> None:
        self.bump()
        self.cancel_timer("verify")
        self.withdraw_tasks()
        v = self.v
        v.assignment += 1
        v.lead_unit, v.co_units, v.clock, v.fired, v.lamp = unit, [c for c in co_units if c != unit], clock, [], Lamp.GREEN
        v.signed, v.binding, v.awaiting_assignment, v.awaiting, v.pending_extension = signed, binding, False, None, None
        v.step = Step.HANDLE if signed else Step.DISPATCH
        v.tasks.append(Task(assignment=v.assignment, unit=unit, lead=True, status="signed" if signed else "open", deadline=clock.deadline))
        v.tasks += [Task(assignment=v.assignment, unit=c, lead=False, deadline=clock.deadline) for c in v.co_units]
        co = f"，会办 {'、'.join(v.co_units)}" if v.co_units else ""
        self.record(now, EventKind.DISPATCHED, SYSTEM, unit=unit, note=f"主办 {unit}{co}；{clock_note(clock)}")
        for u in [unit, *v.co_units]:
            self.notify(Audience.UNIT, u, EventKind.DISPATCHED, f"新派遣任务 {v.case_code}，{clock_note(clock)}")

    def await_assignment(self, now: datetime) -> None:
        self.bump()
        v = self.v
        v.awaiting_assignment, v.lead_unit, v.clock, v.step = True, None, None, Step.DISPATCH
        self.record(now, EventKind.AWAITING_ASSIGNMENT, SYSTEM, note=f"已退单 {v.returns} 次，待中心指定承办单位")
        self.notify(Audience.CENTER, None, EventKind.AWAITING_ASSIGNMENT, f"案件 {v.case_code} 多次退单，请指定承办单位")

    def check_sign_for(self, a: UnitAction) -> None:
        self.need_step("签收", Step.DISPATCH)
        self.need_lead(a.actor, "签收")

    def sign_for(self, a: UnitAction, now: datetime) -> None:
        self.check_sign_for(a)
        self.v.signed, self.v.step = True, Step.HANDLE
        for t in self.current_tasks():
            if t.lead:
                t.status = "signed"
        self.record(now, EventKind.SIGNED, a.actor, note=a.note)

    def check_return(self, r: ReturnTask) -> None:
        self.need_step("退单（已签收的任务不能退单）", Step.DISPATCH)
        self.need_lead(r.actor, "退单")
        if self.v.binding:
            raise reject(Rejection.WRONG_STEP, "该任务为中心指定或提级派遣，不能退单")

    def return_task(self, r: ReturnTask, now: datetime) -> None:
        self.check_return(r)
        v = self.v
        v.returns += 1
        v.returned_by.append(r.actor.unit or "")
        self.withdraw_tasks()
        for t in self.current_tasks():
            if t.lead:
                t.status = "returned"
        self.record(now, EventKind.RETURNED, r.actor, note=r.reason)
        if v.policy and v.returns >= v.policy.max_returns:
            self.await_assignment(now)
        else:
            v.lead_unit, v.clock = None, None
            self.effects.append(Plan(self.bump(), exclude=list(v.returned_by), co_units=list(v.co_units)))

    # --- 事件处置 ---------------------------------------------------------------------------

    def check_progress(self, p: ProgressReport) -> None:
        self.need_step("反馈进展", *WORKING)
        if p.actor.role == Role.UNIT_STAFF and p.actor.unit in self.v.co_units:
            return
        self.need_lead(p.actor, "反馈进展")

    def report_progress(self, p: ProgressReport, now: datetime) -> None:
        self.check_progress(p)
        self.record(now, EventKind.PROGRESS, p.actor, note=p.note)

    def check_extension_request(self, e: ExtensionRequest) -> None:
        self.need_step("申请延期", Step.HANDLE)
        self.need_lead(e.actor, "申请延期")
        if self.v.pending_extension is not None:
            raise reject(Rejection.WRONG_STEP, "已有待审批的延期申请")
        cap = self.v.policy.max_extension if self.v.policy else None
        if e.extra.amount <= 0 or (cap and (e.extra.unit != cap.unit or e.extra.amount > cap.amount)):
            raise reject(Rejection.INVALID, f"延期时长须为正数且不超过 {cap}")

    def request_extension(self, e: ExtensionRequest, now: datetime) -> None:
        self.check_extension_request(e)
        self.v.pending_extension = e.extra
        self.record(now, EventKind.EXTENSION_REQUESTED, e.actor, note=f"申请延期 {e.extra}：{e.reason}")
        self.notify(Audience.CENTER, None, EventKind.EXTENSION_REQUESTED, f"{self.v.case_code} 申请延期 {e.extra}")

    def check_extension_decision(self, d: ExtensionDecision) -> None:
        self.need_role(d.actor, "审批延期", *CENTER_ROLES)
        self.need_step("审批延期", *WORKING)
        if self.v.pending_extension is None:
            raise reject(Rejection.WRONG_STEP, "没有待审批的延期申请")

    def decide_extension(self, d: ExtensionDecision, now: datetime) -> None:
        self.check_extension_decision(d)
        extra, self.v.pending_extension = self.v.pending_extension, None
        if d.approve:
            self.v.extensions += 1
            self.record(now, EventKind.EXTENSION_APPROVED, d.actor, unit=self.v.lead_unit, note=f"同意延期 {extra} {d.note}".strip())
            self.effects.append(Extend(self.epoch, extra))
        else:
            self.record(now, EventKind.EXTENSION_REFUSED, d.actor, unit=self.v.lead_unit, note=d.note)
        self.notify(Audience.UNIT, self.v.lead_unit, EventKind.EXTENSION_APPROVED if d.approve else EventKind.EXTENSION_REFUSED,
                    f"{self.v.case_code} 延期申请{'已同意' if d.approve else '未同意'} {d.note}".strip())

    def reclocked(self, clock: Clock) -> None:
        """A fresh or moved clock for the current assignment; its rungs fire anew from it."""
        self.v.clock, self.v.lamp = clock, Lamp.GREEN
        self.v.fired = [r for r in self.v.fired if r.value == "sign_overdue"]  # rungs re-fire from the new deadline
        for t in self.current_tasks():
            t.deadline = clock.deadline

    def check_complete(self, c: Completion) -> None:
        self.need_step("办结", *WORKING)
        a, v = c.actor, self.v
        if a.role == Role.UNIT_STAFF and a.unit in v.co_units:
            if any(t.unit == a.unit and t.status == "done" for t in self.current_tasks()):
                raise reject(Rejection.WRONG_STEP, "本单位会办部分已反馈")
            return
        self.need_lead(a, "办结")
        self.need_step("办结（请先签收）", Step.HANDLE)
        open_co = [t.unit for t in self.current_tasks() if not t.lead and t.status != "done"]
        if open_co:
            raise reject(Rejection.WRONG_STEP, f"会办单位尚未反馈：{'、'.join(open_co)}")

    def complete(self, c: Completion, now: datetime) -> None:
        self.check_complete(c)
        lead = c.actor.unit == self.v.lead_unit
        for t in self.current_tasks():
            if t.unit == c.actor.unit:
                t.status = "done"
        if not lead:
            self.record(now, EventKind.CO_UNIT_DONE, c.actor, note=c.result)
            return
        self.bump()
        self.v.step = Step.VERIFY
        self.record(now, EventKind.COMPLETED, c.actor, note=c.result)
        self.notify(Audience.CENTER, None, EventKind.COMPLETED, f"{self.v.case_code} 已办结，请核查")
        if self.v.policy:
            self.start_timer("verify", self.v.policy.verify_limit)

    # --- 督办 (supervisor) -------------------------------------------------------------------

    def last_urged(self) -> datetime | None:
        return next((e.at for e in reversed(self.v.timeline) if e.kind == EventKind.URGED), None)

    def check_urge(self, s: SupervisorAction, now: datetime) -> None:
        self.need_role(s.actor, "催办", *CENTER_ROLES)
        self.need_step("催办", *WORKING)
        if self.v.lead_unit is None:
            raise reject(Rejection.WRONG_STEP, "案件待指定承办单位，无法催办")
        last = self.last_urged()
        if last is not None and now - last < URGE_QUIET:
            raise reject(Rejection.WRONG_STEP, "该案件一小时内已催办，请勿重复催办")

    def urge(self, s: SupervisorAction, now: datetime) -> None:
        """催办 — a nudge that fits no step, or repeats one from the last hour, is dropped (the
        update's validator refuses it first; signals cannot be refused, and repeated clicks must
        not grow the history without bound)."""
        last = self.last_urged()
        if last is not None and now - last < URGE_QUIET:
            return
        if s.actor.role in CENTER_ROLES and self.v.step in WORKING and self.v.lead_unit:
            self.record(now, EventKind.URGED, s.actor, unit=self.v.lead_unit, note=s.note)
            self.notify(Audience.UNIT, self.v.lead_unit, EventKind.URGED, f"催办：{self.v.case_code} {s.note}".strip())

    def check_reassign(self, r: Reassign) -> None:
        self.need_role(r.actor, "改派", *CENTER_ROLES)
        self.need_step("改派", *WORKING)
        if r.unit == self.v.lead_unit:
            raise reject(Rejection.INVALID, "改派单位与当前主办单位相同")

    def reassign(self, r: Reassign, now: datetime) -> None:
        self.check_reassign(r)
        binding = r.binding or self.v.awaiting_assignment
        self.record(now, EventKind.REASSIGNED, r.actor, unit=r.unit, note=("中心指定，不可退单 " if binding else "") + r.note)
        # The old unit lets go at once: it can no longer act on a task that is being moved.
        self.withdraw_tasks()
        self.v.lead_unit, self.v.clock, self.v.signed = None, None, False
        self.effects.append(Dispatch(self.bump(), r.unit, r.co_units, binding=binding))

    def check_escalate(self, s: SupervisorAction) -> None:
        self.need_role(s.actor, "提级", *CENTER_ROLES)
        self.need_step("提级", *WORKING)
        if self.v.lead_unit is None:
            raise reject(Rejection.WRONG_STEP, "案件待指定承办单位，无法提级")

    def escalate_now(self, s: SupervisorAction, now: datetime) -> None:
        self.check_escalate(s)
        self.effects.append(Escalate(self.epoch, self.v.lead_unit or "", s.note or "中心提级督办"))

    def escalated(self, eff: Escalate, parent: str | None, clock: Clock | None, now: datetime) -> None:
        if parent is None or clock is None:
            self.record(now, EventKind.ESCALATED, SYSTEM, note=f"{eff.unit} 已是最高层级，由中心直接督办")
            return
        self.v.escalations += 1
        self.record(now, EventKind.ESCALATED, SYSTEM, unit=parent, note=f"{eff.reason}：由 {eff.unit} 提级至 {parent}")
        self.dispatched(parent, [], clock, binding=True, signed=False, now=now)
