"""反馈核查 and 综合评价 paths: rework, no answer, 不满意 → reopen or close, return visits."""

from __future__ import annotations

from datetime import timedelta

from domain.messages import CloseCase, Completion, Evaluation, SupervisorAction, UnitAction, Verification
from domain.vocabulary import EventKind, Step, Verdict
from tests.support import CITIZEN, SUPERVISOR, VERIFIER, rejected, staff, time_skipping, view
from workflows.complaint import ComplaintWorkflow

JJ = staff("D-JJ")


async def handled(h, category="JM-002", unit=JJ):
    case = await h.start()
    await h.register(case, category)
    await case.execute_update(ComplaintWorkflow.sign_for, UnitAction(actor=unit))
    await case.execute_update(ComplaintWorkflow.complete_task, Completion(actor=unit, result="已处理完毕"))
    return case


def kinds(v):
    return [e.kind for e in v.timeline]


async def test_rework_goes_back_to_the_same_unit_and_is_counted(engine, tmp_path):
    async with time_skipping(engine, tmp_path) as h:
        case = await handled(h)
        await case.execute_update(ComplaintWorkflow.verify, Verification(actor=VERIFIER, passed=False, note="车辆仍在"))
        v = await view(case)
        assert (v.step, v.reworks, v.lead_unit, v.assignment) == (Step.HANDLE, 1, "D-JJ", 1)
        assert (
            await rejected(case.execute_update(ComplaintWorkflow.verify, Verification(actor=VERIFIER, passed=True)))
        )[0] == "WrongStep"
        await case.execute_update(ComplaintWorkflow.complete_task, Completion(actor=JJ, result="已拖移"))
        await case.execute_update(
            ComplaintWorkflow.verify, Verification(actor=VERIFIER, passed=False, note="路面仍有油污")
        )
        await case.execute_update(ComplaintWorkflow.complete_task, Completion(actor=JJ, result="已清洗"))
        ack = await case.execute_update(ComplaintWorkflow.verify, Verification(actor=VERIFIER, passed=True))
        v = await view(case)
        assert ack.step == Step.EVALUATE and v.reworks == 2 and kinds(v).count(EventKind.REWORK) == 2


async def test_no_answer_is_recorded_and_the_case_still_closes(engine, tmp_path):
    async with time_skipping(engine, tmp_path) as h:
        case = await handled(h)
        await case.execute_update(ComplaintWorkflow.verify, Verification(actor=VERIFIER, passed=True))
        verified_at = (await view(case)).timeline[-1].at
        final = await case.result()  # evaluation window, visit and its window all lapse unanswered
    assert final.step == Step.CLOSED and final.verdict == Verdict.NO_ANSWER and final.visits == [Verdict.NO_ANSWER]
    evaluated = next(e for e in final.timeline if e.kind == EventKind.EVALUATED)
    assert evaluated.verdict == Verdict.NO_ANSWER
    assert abs(evaluated.at - (verified_at + timedelta(days=3))) < timedelta(seconds=5)  # 3 calendar days


async def test_dissatisfied_reopens_then_second_visit_after_its_delay(engine, tmp_path):
    async with time_skipping(engine, tmp_path) as h:
        case = await handled(h)
        await case.execute_update(ComplaintWorkflow.verify, Verification(actor=VERIFIER, passed=True))
        assert (await rejected(case.execute_update(ComplaintWorkflow.reopen, SupervisorAction(actor=SUPERVISOR))))[
            0
        ] == "WrongStep"
        assert (
            await rejected(
                case.execute_update(ComplaintWorkflow.evaluate, Evaluation(actor=JJ, verdict=Verdict.SATISFIED))
            )
        )[0] == "WrongRole"
        await case.execute_update(ComplaintWorkflow.evaluate, Evaluation(actor=CITIZEN, verdict=Verdict.DISSATISFIED))
        assert (await view(case)).awaiting == "decision"

        await case.execute_update(
            ComplaintWorkflow.reopen, SupervisorAction(actor=SUPERVISOR, note="群众反映问题未根本解决")
        )
        v = await view(case)
        assert (v.step, v.reopens, v.lead_unit, v.signed, v.assignment) == (Step.HANDLE, 1, "D-JJ", True, 2)
        await case.execute_update(ComplaintWorkflow.complete_task, Completion(actor=JJ, result="已加装隔离桩"))
        await case.execute_update(ComplaintWorkflow.verify, Verification(actor=VERIFIER, passed=True))
        await case.execute_update(ComplaintWorkflow.evaluate, Evaluation(actor=CITIZEN, verdict=Verdict.SATISFIED))
        await h.env.sleep(timedelta(days=4))
        await case.execute_update(ComplaintWorkflow.answer_visit, Evaluation(actor=CITIZEN, verdict=Verdict.SATISFIED))
        v = await view(case)
        assert v.step == Step.EVALUATE and v.awaiting == "visit_wait"  # reopened: a second visit is due
        await h.env.sleep(timedelta(days=31))
        assert (await view(case)).awaiting == "visit"
        await case.execute_update(
            ComplaintWorkflow.answer_visit, Evaluation(actor=CITIZEN, verdict=Verdict.BASICALLY_SATISFIED)
        )
        final = await case.result()

    assert final.step == Step.CLOSED and final.visits == [Verdict.SATISFIED, Verdict.BASICALLY_SATISFIED]
    visited, second_due = (
        [e for e in final.timeline if e.kind == EventKind.VISITED][0],
        [e for e in final.timeline if e.kind == EventKind.VISIT_DUE][1],
    )
    assert abs(second_due.at - (visited.at + timedelta(days=30))) < timedelta(seconds=5)
    assert kinds(final).count(EventKind.EVALUATED) == 2


async def test_dissatisfied_can_be_closed_with_a_reason(engine, tmp_path):
    async with time_skipping(engine, tmp_path) as h:
        case = await handled(h)
        await case.execute_update(ComplaintWorkflow.verify, Verification(actor=VERIFIER, passed=True))
        await case.execute_update(ComplaintWorkflow.evaluate, Evaluation(actor=CITIZEN, verdict=Verdict.DISSATISFIED))
        await case.execute_update(
            ComplaintWorkflow.close, CloseCase(actor=SUPERVISOR, reason="诉求超出政策范围，已解释说明")
        )
        final = await case.result()
    assert final.step == Step.CLOSED and final.close_reason == "诉求超出政策范围，已解释说明"
    assert kinds(final)[-1] == EventKind.CLOSED and final.verdict == Verdict.DISSATISFIED


async def test_level_one_case_gets_a_second_visit(engine, tmp_path):
    async with time_skipping(engine, tmp_path) as h:
        zj = staff("D-ZJ")
        case = await h.start()
        v = await h.register(case, "AQ-001")  # 燃气安全隐患: level 1, 住建 with 应急 会办
        assert (v.level, v.lead_unit, v.co_units) == (1, "D-ZJ", ["D-YJ"])
        await case.execute_update(ComplaintWorkflow.sign_for, UnitAction(actor=zj))
        await case.execute_update(ComplaintWorkflow.complete_task, Completion(actor=staff("D-YJ"), result="已排查周边"))
        await case.execute_update(ComplaintWorkflow.complete_task, Completion(actor=zj, result="已更换燃气管道"))
        await case.execute_update(ComplaintWorkflow.verify, Verification(actor=VERIFIER, passed=True))
        await case.execute_update(ComplaintWorkflow.evaluate, Evaluation(actor=CITIZEN, verdict=Verdict.SATISFIED))
        final = await case.result()  # both visits lapse unanswered; the case still ends
    assert final.step == Step.CLOSED and final.visits == [Verdict.NO_ANSWER, Verdict.NO_ANSWER]
    assert kinds(final).count(EventKind.VISIT_DUE) == 2
