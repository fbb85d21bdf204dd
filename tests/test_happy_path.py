"""The whole loop for an ordinary case, on the time-skipping server, projection included."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, select

from domain.messages import Completion, Evaluation, ProgressReport, Registration, UnitAction, Verification
from domain.vocabulary import EventKind, Step, Verdict
from store.tables import CaseRow, EvaluationRow, OutboxRow, TaskRow, TimelineRow
from tests.support import CITIZEN, SUPERVISOR, VERIFIER, rejected, staff, time_skipping, view
from workflows.complaint import ComplaintWorkflow


async def test_happy_path_collect_to_archive(engine, tmp_path):
    async with time_skipping(engine, tmp_path) as h:
        case = await h.start(grid="G-LS-XL-01")
        v = await view(case)
        assert v.step == Step.CREATE and [e.kind for e in v.timeline] == [EventKind.COLLECTED]

        v = await h.register(case, "JM-002")  # 违规停车 → 交警大队, level 2
        assert (v.step, v.lead_unit, v.level, v.policy.version) == (Step.DISPATCH, "D-JJ", 2, "sla-2026.1")
        assert v.clock and v.clock.deadline > v.clock.yellow_at > v.clock.started_at

        jj = staff("D-JJ")
        await case.execute_update(ComplaintWorkflow.sign_for, UnitAction(actor=jj))
        await case.execute_update(
            ComplaintWorkflow.report_progress, ProgressReport(actor=jj, note="已到现场，正在联系车主")
        )
        ack = await case.execute_update(
            ComplaintWorkflow.complete_task, Completion(actor=jj, result="车辆已挪走", photos=["https://img/1.jpg"])
        )
        assert ack.step == Step.VERIFY
        await case.execute_update(ComplaintWorkflow.verify, Verification(actor=VERIFIER, passed=True, note="现场核实"))
        ack = await case.execute_update(
            ComplaintWorkflow.evaluate, Evaluation(actor=CITIZEN, verdict=Verdict.SATISFIED)
        )
        assert ack.step == Step.EVALUATE and (await view(case)).awaiting == "visit_wait"

        # 回访 one working day later; the citizen answers; level 2 and never reopened: archived.
        await h.env.sleep(timedelta(days=4))
        assert (await view(case)).awaiting == "visit"
        await case.execute_update(ComplaintWorkflow.answer_visit, Evaluation(actor=CITIZEN, verdict=Verdict.SATISFIED))
        final = await case.result()

    assert final.step == Step.CLOSED and final.closed_at and final.visits == [Verdict.SATISFIED]
    kinds = [e.kind for e in final.timeline]
    assert kinds == [
        EventKind.COLLECTED,
        EventKind.ACCEPTED,
        EventKind.DISPATCHED,
        EventKind.SIGNED,
        EventKind.PROGRESS,
        EventKind.COMPLETED,
        EventKind.VERIFIED,
        EventKind.EVALUATED,
        EventKind.VISIT_DUE,
        EventKind.VISITED,
        EventKind.CLOSED,
    ]
    assert [e.seq for e in final.timeline] == list(range(1, len(kinds) + 1))

    with Session(engine) as s:
        row = s.get(CaseRow, final.case_code)
        assert (row.step, row.lead_unit, row.verdict, row.last_seq) == ("closed", "D-JJ", "satisfied", len(kinds))
        rows = s.exec(
            select(TimelineRow).where(TimelineRow.case_code == final.case_code).order_by(TimelineRow.seq)
        ).all()
        assert [r.kind for r in rows] == [k.value for k in kinds]
        tasks = s.exec(select(TaskRow).where(TaskRow.case_code == final.case_code)).all()
        assert [(t.unit, t.lead, t.status) for t in tasks] == [("D-JJ", True, "done")]
        verdicts = s.exec(
            select(EvaluationRow).where(EvaluationRow.case_code == final.case_code).order_by(EvaluationRow.seq)
        ).all()
        assert [(e.kind, e.verdict) for e in verdicts] == [("evaluation", "satisfied"), ("visit", "satisfied")]
        outbox = s.exec(select(OutboxRow).where(OutboxRow.case_code == final.case_code)).all()
        assert {(o.audience, o.unit) for o in outbox} >= {("unit", "D-JJ"), ("center", None), ("citizen", None)}


async def test_actions_out_of_step_or_unit_are_rejected(engine, tmp_path):
    async with time_skipping(engine, tmp_path) as h:
        case = await h.start()
        assert (await rejected(case.execute_update(ComplaintWorkflow.sign_for, UnitAction(actor=staff("D-JJ")))))[
            0
        ] == "WrongStep"
        await h.register(case, "JM-002")
        kind, message = await rejected(
            case.execute_update(ComplaintWorkflow.complete_task, Completion(actor=staff("D-CG"), result="已处理"))
        )
        assert kind == "WrongUnit" and "D-CG" in message
        kind, _ = await rejected(
            case.execute_update(ComplaintWorkflow.complete_task, Completion(actor=staff("D-JJ"), result="已处理"))
        )
        assert kind == "WrongStep"  # not signed for yet
        kind, _ = await rejected(
            case.execute_update(ComplaintWorkflow.verify, Verification(actor=staff("D-JJ"), passed=True))
        )
        assert kind == "WrongRole"
        kind, _ = await rejected(
            case.execute_update(ComplaintWorkflow.register, Registration(actor=SUPERVISOR, category="JM-002"))
        )
        assert kind == "WrongStep"
        v = await view(case)
        # Rejected updates leave no trace: nothing after the dispatch.
        assert [e.kind for e in v.timeline][-1] == EventKind.DISPATCHED and v.lead_unit == "D-JJ"
