"""考核记账: who is charged with what, by hand on timelines, then on real workflows and their projection."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, select
from temporalio.client import WorkflowHandle

from api.stats_report import stats_report
from domain.accounting import Entry, Outcome, TaskRecord, assignments_of, first_overdue, standing_verdict
from domain.district import District
from domain.messages import (
    Actor,
    ComplaintInput,
    Completion,
    Evaluation,
    ExtensionDecision,
    ExtensionRequest,
    Reassign,
    ReturnTask,
    UnitAction,
    Verification,
)
from domain.policy import Duration, DurationUnit
from domain.vocabulary import Awaiting, Channel, Verdict
from domain.vocabulary import EventKind as K
from store.accounting import recount_all
from store.db import Database
from store.tables import AssignmentRow, CaseRow, TaskRow, TimelineRow
from tests.support import CITIZEN, SUPERVISOR, VERIFIER, eventually, staff, time_skipping, view
from workflows.complaint import ComplaintWorkflow

DISTRICT = District.load()

T0 = datetime(2026, 6, 1, 1, 0, tzinfo=UTC)


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def timeline(*items: tuple[float, K, str | None]) -> list[Entry]:
    return [Entry(seq, at(hours), kind.value, unit) for seq, (hours, kind, unit) in enumerate(items, start=1)]


def test_a_case_escalated_after_running_over_stays_overdue_at_the_unit_it_ran_over_at():
    entries = timeline(
        (0, K.ACCEPTED, None),
        (0, K.DISPATCHED, "D-JJ"),
        (40, K.YELLOW, "D-JJ"),
        (72, K.RED, "D-JJ"),
        (96, K.LADDER_URGE, "D-JJ"),
        (120, K.LADDER_SUPERVISE, "D-JJ"),
        (144, K.ESCALATED, "WD-CENTER"),
        (144, K.DISPATCHED, "WD-CENTER"),
        (150, K.SIGNED, None),
        (160, K.COMPLETED, None),
        (170, K.VERIFIED, None),
        (180, K.EVALUATED, None),
    )
    tasks = [TaskRecord(1, "D-JJ", True, at(72)), TaskRecord(2, "WD-CENTER", True, at(216))]
    jj, center = assignments_of(entries, tasks, "satisfied")
    assert (jj.unit, jj.outcome, jj.ended_at, jj.overdue_at, jj.worst_lamp) == (
        "D-JJ",
        Outcome.ESCALATED,
        at(144),
        at(72),
        "red",
    )
    assert (jj.urges, jj.supervised, jj.closed, jj.verdict, jj.handling_seconds) == (1, True, False, None, None)
    assert (center.unit, center.outcome, center.closed, center.overdue_at, center.worst_lamp) == (
        "WD-CENTER",
        Outcome.COMPLETED,
        True,
        None,
        "green",
    )
    assert center.verdict == "satisfied" and center.handling_seconds == 16 * 3600  # dispatch → completion
    assert first_overdue([jj, center]) == at(72)  # the fresh clock at the center does not undo it


def test_returns_reassignment_rework_extension_and_co_units_are_charged_where_they_happened():
    entries = timeline(
        (0, K.DISPATCHED, "D-JJ"),
        (1, K.RETURNED, None),
        (1, K.DISPATCHED, "T-LS"),
        (2, K.REASSIGNED, "D-CG"),
        (2, K.DISPATCHED, "D-CG"),
        (3, K.SIGNED, None),
        (4, K.EXTENSION_APPROVED, "D-CG"),
        (5, K.CO_UNIT_DONE, "D-ZR"),
        (6, K.COMPLETED, None),
        (7, K.REWORK, "D-CG"),
        (30, K.COMPLETED, None),  # after the (extended) deadline: late, though no 红灯 had fired
        (31, K.VERIFIED, None),
    )
    tasks = [
        TaskRecord(1, "D-JJ", True, at(72)),
        TaskRecord(2, "T-LS", True, at(73)),
        TaskRecord(3, "D-CG", True, at(24)),
        TaskRecord(3, "D-ZR", False, at(24)),
    ]
    jj, ls, cg, zr = assignments_of(entries, tasks, "dissatisfied")
    assert (jj.outcome, jj.ended_at, jj.overdue_at) == (Outcome.RETURNED, at(1), None)
    assert (ls.outcome, ls.ended_at, ls.overdue_at) == (Outcome.REASSIGNED, at(2), None)
    assert (cg.outcome, cg.closed, cg.extensions, cg.reworks, cg.completed_at) == (
        Outcome.COMPLETED,
        True,
        1,
        1,
        at(30),
    )
    assert cg.overdue_at == at(24) and cg.verdict == "dissatisfied"
    assert (zr.lead, zr.outcome, zr.completed_at, zr.verdict) == (False, Outcome.COMPLETED, at(5), None)
    assert first_overdue([jj, ls, cg, zr]) == at(24)


def test_a_reopened_case_moves_its_closure_to_the_second_round():
    entries = timeline(
        (0, K.DISPATCHED, "D-JJ"),
        (1, K.COMPLETED, None),
        (2, K.VERIFIED, None),
        (3, K.EVALUATED, None),
        (4, K.REOPENED, "D-JJ"),
        (4, K.DISPATCHED, "D-JJ"),
        (5, K.COMPLETED, None),
        (6, K.VERIFIED, None),
        (7, K.CLOSED, None),
    )
    tasks = [TaskRecord(1, "D-JJ", True, at(72)), TaskRecord(2, "D-JJ", True, at(76))]
    first, second = assignments_of(entries, tasks, "basically_satisfied")
    assert (first.outcome, first.closed, first.reworks, first.verdict) == (Outcome.REWORKED, False, 1, None)
    assert (second.outcome, second.closed, second.verdict) == (Outcome.COMPLETED, True, "basically_satisfied")


def test_a_case_closed_while_held_ends_its_assignment_and_a_case_never_dispatched_has_none():
    rows = assignments_of(timeline((0, K.DISPATCHED, "D-JJ"), (5, K.CLOSED, None)), [], None)
    assert [(r.unit, r.outcome, r.deadline) for r in rows] == [("D-JJ", Outcome.CLOSED, None)]
    assert assignments_of(timeline((0, K.ACCEPTED, None), (1, K.CLOSED, None)), [], None) == []


def test_the_standing_verdict_is_the_latest_real_answer():
    assert standing_verdict(["satisfied", "dissatisfied"]) == "dissatisfied"  # the 回访 overrides
    assert standing_verdict(["dissatisfied", "no_answer"]) == "dissatisfied"  # 未接通 overrides nothing
    assert standing_verdict(["no_answer", "no_answer"]) == "no_answer"
    assert standing_verdict([None]) is None and standing_verdict([]) is None


# --- on real workflows: the time-skipping server, the real worker and its projection -----------------

SH = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 6, 1, 9, 0, tzinfo=SH)  # a Monday with no holiday near (端午 is 06-19)
JJ, LS, CG, CENTER = staff("D-JJ"), staff("T-LS"), staff("D-CG"), staff("WD-CENTER")


async def started(h, category: str = "JM-002") -> WorkflowHandle:
    """A case reported at the faked START (so the statistics window holds these cases only), registered."""
    code = f"WD-T-{uuid.uuid4().hex[:10].upper()}"
    inp = ComplaintInput(case_code=code, channel=Channel.HOTLINE, grid="G-LS-XL-01", reported_at=START)
    handle = await h.client.start_workflow(ComplaintWorkflow.run, inp, id=code, task_queue=h.settings.task_queue)
    h.handles.append(handle)
    await h.register(handle, category)
    return handle


async def done(handle: WorkflowHandle, unit: Actor, verdict: Verdict | None = None) -> None:
    await handle.execute_update(ComplaintWorkflow.sign_for, UnitAction(actor=unit))
    await handle.execute_update(ComplaintWorkflow.complete_task, Completion(actor=unit, result="已处理"))
    await handle.execute_update(ComplaintWorkflow.verify, Verification(actor=VERIFIER, passed=True))
    if verdict:
        await handle.execute_update(ComplaintWorkflow.evaluate, Evaluation(actor=CITIZEN, verdict=verdict))


async def lead_is(handle: WorkflowHandle, unit: str) -> bool:
    return (await view(handle)).lead_unit == unit


def figures(rows, key) -> dict:
    row = next(r for r in rows if r.key == key).model_dump()
    return {k: v for k, v in row.items() if k not in ("key", "label")}


UNIT = dict(received=None, accepted=None, closed_on_time=0, returned=0, escalated=0, reworked=0, extended=0)


async def test_each_unit_is_charged_for_what_happened_while_it_held_the_case(engine, tmp_path):
    async with time_skipping(engine, tmp_path, start=START) as h:
        returned, reassigned, escalated = await started(h), await started(h), await started(h)
        # 退单 at D-JJ → routed to T-LS, which asks for and gets more time, is sent back once, then 不满意
        await returned.execute_update(ComplaintWorkflow.return_task, ReturnTask(actor=JJ, reason="属街道管理"))
        await eventually(lambda: lead_is(returned, "T-LS"))
        await returned.execute_update(ComplaintWorkflow.sign_for, UnitAction(actor=LS))
        extra = Duration(amount=1, unit=DurationUnit.WORKING_DAYS)
        await returned.execute_update(
            ComplaintWorkflow.request_extension, ExtensionRequest(actor=LS, extra=extra, reason="需协调")
        )
        await returned.execute_update(
            ComplaintWorkflow.decide_extension, ExtensionDecision(actor=SUPERVISOR, approve=True)
        )
        await returned.execute_update(ComplaintWorkflow.complete_task, Completion(actor=LS, result="已处理"))
        await returned.execute_update(ComplaintWorkflow.verify, Verification(actor=VERIFIER, passed=False, note="未清"))
        await done_after_rework(returned, LS)
        # 改派 from D-JJ to D-CG, 满意 at first, 不满意 at the return visit: the later verdict stands
        await reassigned.execute_update(ComplaintWorkflow.reassign, Reassign(actor=SUPERVISOR, unit="D-CG"))
        await eventually(lambda: lead_is(reassigned, "D-CG"))
        await done(reassigned, CG, Verdict.SATISFIED)
        while (await view(reassigned)).awaiting != Awaiting.VISIT:
            await h.env.sleep(timedelta(hours=12))
        await reassigned.execute_update(
            ComplaintWorkflow.answer_visit, Evaluation(actor=CITIZEN, verdict=Verdict.DISSATISFIED)
        )
        # never signed at D-JJ: red, then 提级 to the center, which does it on time
        while (await view(escalated)).escalations == 0:
            await h.env.sleep(timedelta(hours=12))
        await done(escalated, CENTER, Verdict.SATISFIED)
        now = await h.env.get_current_time()
        red_view = await view(escalated)

    assert red_view.lamp.value == "green" and any(e.kind == K.RED and e.unit == "D-JJ" for e in red_view.timeline)
    window = (datetime(2026, 6, 1, tzinfo=SH), datetime(2026, 6, 2, tzinfo=SH))
    with Session(engine) as session:
        by_unit = stats_report(session, DISTRICT, "unit", "month", *window, now=now)
        by_area = stats_report(session, DISTRICT, "area", "month", *window, now=now)
    rows = by_unit.rows
    assert [r.key for r in rows] == ["WD-CENTER", "T-LS", "D-CG", "D-JJ"]  # the district file's order
    # By hand. D-JJ held all three first: one returned, one reassigned, one run over and escalated.
    assert figures(rows, "D-JJ") == UNIT | dict(
        assigned=3,
        closed=0,
        on_time_rate=None,
        due=1,
        closure_rate=0.0,
        overdue=1,
        returned=1,
        escalated=1,
        evaluated=0,
        satisfied=0,
        satisfaction_rate=None,
        avg_handling_hours=None,
        stars=1,
    )  # (0.3·0 + 0.2·(1 − 2/3)) ÷ 0.5 = 0.133 → 0.67 → 1
    assert figures(rows, "T-LS") == UNIT | dict(
        assigned=1,
        closed=1,
        closed_on_time=1,
        on_time_rate=1.0,
        due=1,
        closure_rate=1.0,
        overdue=0,
        reworked=1,
        extended=1,
        evaluated=1,
        satisfied=0,
        satisfaction_rate=0.0,
        avg_handling_hours=0.0,
        stars=3,
    )  # 0.3 + 0.3 + 0.2·0 + 0.2·(1 − 1) = 0.6 → 3
    assert figures(rows, "D-CG") == UNIT | dict(
        assigned=1,
        closed=1,
        closed_on_time=1,
        on_time_rate=1.0,
        due=1,
        closure_rate=1.0,
        overdue=0,
        evaluated=1,
        satisfied=0,
        satisfaction_rate=0.0,
        avg_handling_hours=0.0,
        stars=4,
    )  # 0.3 + 0.3 + 0 + 0.2 = 0.8 → 4
    center = figures(rows, "WD-CENTER")
    assert center == UNIT | dict(
        assigned=1,
        closed=1,
        closed_on_time=1,
        on_time_rate=1.0,
        due=1,
        closure_rate=1.0,
        overdue=0,
        evaluated=1,
        satisfied=1,
        satisfaction_rate=1.0,
        avg_handling_hours=center["avg_handling_hours"],
        stars=5,
    )
    # Per case, the escalated case is still overdue although its current clock is green.
    total = by_area.total
    assert (total.received, total.closed, total.closed_on_time, total.overdue, total.due) == (3, 3, 2, 1, 3)
    assert (total.returned, total.escalated, total.reworked, total.extended) == (1, 1, 1, 1)
    assert (total.evaluated, total.satisfied) == (3, 1)
    assert by_unit.total.assigned == 6 and by_unit.total.overdue == 1


async def done_after_rework(handle: WorkflowHandle, unit: Actor) -> None:
    await handle.execute_update(ComplaintWorkflow.complete_task, Completion(actor=unit, result="已清理干净"))
    await handle.execute_update(ComplaintWorkflow.verify, Verification(actor=VERIFIER, passed=True))
    await handle.execute_update(ComplaintWorkflow.evaluate, Evaluation(actor=CITIZEN, verdict=Verdict.DISSATISFIED))


def test_rebuild_recounts_a_case_projected_before_the_accounting(engine):
    code = f"WD-RB-{uuid.uuid4().hex[:8].upper()}"
    entries = timeline((0, K.DISPATCHED, "D-JJ"), (1, K.RETURNED, None), (1, K.DISPATCHED, "T-LS"), (80, K.RED, "T-LS"))
    with Session(engine) as session:
        session.add(CaseRow(case_code=code, channel="hotline_12345", grid="G-LS-XL-01", step="handle", reported_at=T0))
        session.add_all(
            TimelineRow(case_code=code, seq=e.seq, at=e.at, kind=e.kind, role="system", unit=e.unit) for e in entries
        )
        session.add_all(
            [
                TaskRow(case_code=code, assignment=1, unit="D-JJ", lead=True, status="returned", deadline=at(72)),
                TaskRow(case_code=code, assignment=2, unit="T-LS", lead=True, status="signed", deadline=at(80)),
            ]
        )
        session.commit()
    db = Database.of(engine)
    try:
        assert recount_all(db, batch=50) >= 1
        recount_all(db, batch=50)  # again: nothing doubles
    finally:
        db.dispose()
    with Session(engine) as session:
        rows = session.exec(
            select(AssignmentRow).where(AssignmentRow.case_code == code).order_by(AssignmentRow.assignment)
        ).all()
        case_row = session.get(CaseRow, code)
    assert [(r.unit, r.outcome, r.overdue_at) for r in rows] == [("D-JJ", "returned", None), ("T-LS", None, at(80))]
    assert case_row.overdue_at == at(80)
