"""案件建立 and 任务派遣 paths: decline, duplicates, returns, the return cap, 会办, extensions."""

from __future__ import annotations

from sqlmodel import Session, select

from domain.messages import (
    Completion,
    Decline,
    ExtensionDecision,
    ExtensionRequest,
    MarkDuplicate,
    Reassign,
    ReturnTask,
    UnitAction,
)
from domain.policy import wd
from domain.vocabulary import EventKind, Step
from store.tables import CaseRow, TaskRow
from tests.support import SUPERVISOR, eventually, rejected, staff, time_skipping, view
from workflows.complaint import ComplaintWorkflow


async def test_decline_ends_the_case_with_its_reason(engine, tmp_path):
    async with time_skipping(engine, tmp_path) as h:
        case = await h.start()
        await case.execute_update(ComplaintWorkflow.decline, Decline(actor=SUPERVISOR, reason="属于司法程序，不予受理"))
        final = await case.result()
    assert final.step == Step.DECLINED and final.close_reason == "属于司法程序，不予受理"
    assert [e.kind for e in final.timeline] == [EventKind.COLLECTED, EventKind.DECLINED]
    with Session(engine) as s:
        assert s.get(CaseRow, final.case_code).step == "declined"


async def test_duplicate_is_linked_to_its_primary_not_handled_twice(engine, tmp_path):
    async with time_skipping(engine, tmp_path) as h:
        primary = await h.start()
        await h.register(primary, "JM-002")
        dup = await h.start()
        await dup.execute_update(ComplaintWorkflow.mark_duplicate, MarkDuplicate(actor=SUPERVISOR, primary=primary.id))
        merged = await dup.result()
        assert merged.step == Step.MERGED and merged.primary == primary.id and merged.assignment == 0
        v = await eventually(lambda: _linked(primary, dup.id))
        assert v.duplicates == [dup.id] and v.step == Step.DISPATCH

        # A primary that does not exist: the duplicate stays in 立案 with the failure recorded.
        orphan = await h.start()
        await orphan.execute_update(
            ComplaintWorkflow.mark_duplicate, MarkDuplicate(actor=SUPERVISOR, primary="WD-NO-SUCH-CASE")
        )
        v = await view(orphan)
        assert v.step == Step.CREATE and v.awaiting is None and v.timeline[-1].kind == EventKind.ACTION_FAILED
        assert (
            await rejected(
                orphan.execute_update(
                    ComplaintWorkflow.mark_duplicate, MarkDuplicate(actor=SUPERVISOR, primary=orphan.id)
                )
            )
        )[0] == "InvalidInput"


async def _linked(handle, dup_id):
    v = await view(handle)
    return v if dup_id in v.duplicates else None


async def test_return_redispatches_and_the_cap_hands_over_to_the_center(engine, tmp_path):
    async with time_skipping(engine, tmp_path) as h:
        case = await h.start(grid="G-LS-XL-01")
        v = await h.register(case, "JM-001")  # 占道经营 → 城管 with 市场监管 会办
        assert (v.lead_unit, v.co_units) == ("D-CG", ["D-SJ"])
        first_deadline = v.clock.deadline

        await case.execute_update(
            ComplaintWorkflow.return_task, ReturnTask(actor=staff("D-CG"), reason="属于街道管理范围")
        )
        v = await view(case)
        assert (v.lead_unit, v.co_units, v.returns, v.assignment) == ("T-LS", ["D-SJ"], 1, 2)
        assert v.clock.started_at > v.timeline[0].at and v.clock.deadline >= first_deadline  # fresh clock

        await case.execute_update(
            ComplaintWorkflow.return_task, ReturnTask(actor=staff("T-LS"), reason="需区级部门处理")
        )
        v = await view(case)
        assert (v.lead_unit, v.returns) == ("WD-CENTER", 2)
        await case.execute_update(
            ComplaintWorkflow.return_task, ReturnTask(actor=staff("WD-CENTER"), reason="请重新研判")
        )
        v = await view(case)
        assert v.returns == 3 and v.awaiting_assignment and v.lead_unit is None and v.step == Step.DISPATCH
        assert v.timeline[-1].kind == EventKind.AWAITING_ASSIGNMENT
        # Nobody holds the task now: a unit cannot act on it.
        assert (await rejected(case.execute_update(ComplaintWorkflow.sign_for, UnitAction(actor=staff("D-CG")))))[
            0
        ] == "WrongUnit"

        await case.execute_update(
            ComplaintWorkflow.reassign,
            Reassign(actor=SUPERVISOR, unit="D-CG", co_units=["D-SJ"], note="明确由城管主办"),
        )
        v = await view(case)
        assert (v.lead_unit, v.binding, v.awaiting_assignment, v.assignment) == ("D-CG", True, False, 4)
        kind, message = await rejected(
            case.execute_update(ComplaintWorkflow.return_task, ReturnTask(actor=staff("D-CG"), reason="再退"))
        )
        assert kind == "WrongStep" and "不能退单" in message

    with Session(engine) as s:
        tasks = s.exec(
            select(TaskRow)
            .where(TaskRow.case_code == case.id, TaskRow.lead == True)  # noqa: E712
            .order_by(TaskRow.assignment)
        ).all()
        assert [(t.unit, t.status) for t in tasks] == [
            ("D-CG", "returned"),
            ("T-LS", "returned"),
            ("WD-CENTER", "returned"),
            ("D-CG", "open"),
        ]


async def test_joint_handling_waits_for_every_co_unit(engine, tmp_path):
    async with time_skipping(engine, tmp_path) as h:
        case = await h.start(grid="G-LS-XL-01")
        await h.register(case, "JM-001")
        cg, sj = staff("D-CG"), staff("D-SJ")
        assert (await rejected(case.execute_update(ComplaintWorkflow.sign_for, UnitAction(actor=sj))))[0] == "WrongUnit"
        await case.execute_update(ComplaintWorkflow.sign_for, UnitAction(actor=cg))
        kind, message = await rejected(
            case.execute_update(ComplaintWorkflow.complete_task, Completion(actor=cg, result="已清理"))
        )
        assert kind == "WrongStep" and "D-SJ" in message
        await case.execute_update(ComplaintWorkflow.complete_task, Completion(actor=sj, result="已对摊主进行登记教育"))
        assert (
            await rejected(
                case.execute_update(ComplaintWorkflow.complete_task, Completion(actor=sj, result="再报一次"))
            )
        )[0] == "WrongStep"
        ack = await case.execute_update(ComplaintWorkflow.complete_task, Completion(actor=cg, result="占道摊点已清理"))
        assert ack.step == Step.VERIFY
        v = await view(case)
        assert [e.kind for e in v.timeline][-2:] == [EventKind.CO_UNIT_DONE, EventKind.COMPLETED]
        assert {(t.unit, t.status) for t in v.tasks} == {("D-CG", "done"), ("D-SJ", "done")}


async def test_extension_moves_the_deadline_and_refusal_does_not(engine, tmp_path):
    async with time_skipping(engine, tmp_path) as h:
        case = await h.start()
        v = await h.register(case, "JM-002")
        jj = staff("D-JJ")
        await case.execute_update(ComplaintWorkflow.sign_for, UnitAction(actor=jj))
        before = v.clock.deadline

        assert (
            await rejected(
                case.execute_update(
                    ComplaintWorkflow.request_extension, ExtensionRequest(actor=jj, extra=wd(30), reason="太忙")
                )
            )
        )[0] == "InvalidInput"
        await case.execute_update(
            ComplaintWorkflow.request_extension, ExtensionRequest(actor=jj, extra=wd(2), reason="需等待车主返回")
        )
        assert (
            await rejected(
                case.execute_update(
                    ComplaintWorkflow.request_extension, ExtensionRequest(actor=jj, extra=wd(1), reason="再延")
                )
            )
        )[0] == "WrongStep"
        assert (
            await rejected(
                case.execute_update(ComplaintWorkflow.decide_extension, ExtensionDecision(actor=jj, approve=True))
            )
        )[0] == "WrongRole"
        await case.execute_update(
            ComplaintWorkflow.decide_extension, ExtensionDecision(actor=SUPERVISOR, approve=False, note="理由不充分")
        )
        v = await view(case)
        assert v.clock.deadline == before and v.extensions == 0 and v.pending_extension is None

        await case.execute_update(
            ComplaintWorkflow.request_extension, ExtensionRequest(actor=jj, extra=wd(2), reason="需等待车主返回")
        )
        await case.execute_update(ComplaintWorkflow.decide_extension, ExtensionDecision(actor=SUPERVISOR, approve=True))
        v = await view(case)
        # Two working days later at the same close of business, with the rungs recomputed from it.
        assert v.extensions == 1 and v.clock.deadline > before
        assert v.clock.deadline.astimezone(_SH).time() == before.astimezone(_SH).time()
        assert 2 <= (v.clock.deadline - before).days <= 6
        assert v.clock.yellow_at < v.clock.deadline < v.clock.urge_at < v.clock.supervise_at < v.clock.escalate_at
        assert [t.deadline for t in v.tasks if t.assignment == v.assignment] == [v.clock.deadline]
        with Session(engine) as s:
            assert s.get(CaseRow, case.id).deadline == v.clock.deadline


from zoneinfo import ZoneInfo  # noqa: E402

_SH = ZoneInfo("Asia/Shanghai")


async def test_supervisor_urges_and_escalates_now(engine, tmp_path):
    from domain.messages import SupervisorAction

    async with time_skipping(engine, tmp_path) as h:
        case = await h.start(grid="G-LS-XL-01")
        await h.register(case, "SR-001")  # 乱堆乱放: level 3, the grid itself handles it
        v = await view(case)
        assert (v.lead_unit, v.level) == ("G-LS-XL-01", 3)
        await case.signal(ComplaintWorkflow.urge, SupervisorAction(actor=SUPERVISOR, note="请今天处理"))
        await case.signal(ComplaintWorkflow.urge, SupervisorAction(actor=staff("G-LS-XL-01"), note="units cannot urge"))
        await eventually(lambda: _with_kind(case, EventKind.URGED))

        assert (
            await rejected(case.execute_update(ComplaintWorkflow.escalate, SupervisorAction(actor=staff("G-LS-XL-01"))))
        )[0] == "WrongRole"
        for expected in ("V-LS-XL", "T-LS", "WD-CENTER"):  # grid → village → town → center
            await case.execute_update(ComplaintWorkflow.escalate, SupervisorAction(actor=SUPERVISOR, note="提级督办"))
            v = await view(case)
            assert (v.lead_unit, v.binding, v.step) == (expected, True, Step.DISPATCH)
        await case.execute_update(ComplaintWorkflow.escalate, SupervisorAction(actor=SUPERVISOR))
        v = await view(case)
        assert v.lead_unit == "WD-CENTER" and v.escalations == 3 and "最高层级" in v.timeline[-1].note
        # both signals were handled long before these updates: only the supervisor's urge counts
        assert [e.note for e in v.timeline if e.kind == EventKind.URGED] == ["请今天处理"]


async def _with_kind(handle, kind):
    v = await view(handle)
    return v if any(e.kind == kind for e in v.timeline) else None
