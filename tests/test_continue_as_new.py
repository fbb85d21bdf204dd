"""A case whose history grows long continues as new, carrying its state, and stays exactly-once.

The dev server is told to suggest continue-as-new after a few dozen events (Temporal's default is
thousands), so a case with many progress reports moves to new runs within the test.
"""

from __future__ import annotations

import uuid

import pytest
from sqlmodel import Session, select
from temporalio.client import Client, WorkflowHandle
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from config import Settings
from domain.messages import Completion, ProgressReport, UnitAction, Verification
from domain.vocabulary import EventKind, Step
from store.tables import TimelineRow
from tests.support import DEV_SERVER, VERIFIER, Harness, eventually, replay_all, staff, view
from workflows.complaint import ComplaintWorkflow

SUGGEST_AFTER_EVENTS = 150


@pytest.fixture
async def short_history_env():
    env = await WorkflowEnvironment.start_local(
        data_converter=pydantic_data_converter,
        dev_server_existing_path=str(DEV_SERVER),
        ui=False,
        dev_server_extra_args=[
            "--log-level",
            "error",
            "--dynamic-config-value",
            f"limit.historyCount.suggestContinueAsNew={SUGGEST_AFTER_EVENTS}",
        ],
    )
    yield env
    await env.shutdown()


async def runs_of(client: Client, first: WorkflowHandle) -> list[WorkflowHandle]:
    """Every run of the case, first to latest, following each run's continued-as-new event."""
    runs, run_id = [], first.first_execution_run_id
    while run_id:
        handle = client.get_workflow_handle(first.id, run_id=run_id)
        runs.append(handle)
        history = await handle.fetch_history()
        last = history.events[-1]
        run_id = (
            last.workflow_execution_continued_as_new_event_attributes.new_execution_run_id
            if last.HasField("workflow_execution_continued_as_new_event_attributes")
            else None
        )
    return runs


def projected_seqs(engine, code: str) -> list[int]:
    with Session(engine) as session:
        return list(
            session.exec(select(TimelineRow.seq).where(TimelineRow.case_code == code).order_by(TimelineRow.seq)).all()
        )


def progress_notes(engine, code: str) -> list[str]:
    with Session(engine) as session:
        rows = session.exec(
            select(TimelineRow.note)
            .where(TimelineRow.case_code == code, TimelineRow.kind == EventKind.PROGRESS.value)
            .order_by(TimelineRow.seq)
        ).all()
    return list(rows)


async def test_a_long_case_continues_as_new_with_its_state_and_its_update_ids(engine, short_history_env):
    env = short_history_env
    settings = Settings(task_queue=f"can-{uuid.uuid4().hex[:8]}", database_url=str(engine.url))
    h = Harness(env, env.client, settings, engine)
    await h.start_worker()
    try:
        first = await h.start()
        first_run = first.first_execution_run_id
        registered = await h.register(first, "JM-002")
        unit = staff(registered.lead_unit or "")
        latest = env.client.get_workflow_handle(first.id)  # no run id: whichever run is current
        await latest.execute_update(ComplaintWorkflow.sign_for, UnitAction(actor=unit, note="已签收"), id="sign-once")
        before = await view(latest)

        sent: list[str] = []
        assert (await latest.describe()).run_id == first_run, "continued as new before any progress: raise the limit"
        while len(sent) < 60 and (await latest.describe()).run_id == first_run:
            note = f"第{len(sent) + 1}次进展"
            await latest.execute_update(
                ComplaintWorkflow.report_progress, ProgressReport(actor=unit, note=note), id=f"progress-{len(sent)}"
            )
            sent.append(note)
        assert (await latest.describe()).run_id != first_run, "the case never continued as new"
        print(f"continued as new after {len(sent)} progress reports")

        # Retries of actions the first run applied land on the new run: answered, not applied again —
        # not even refused, though signing for a case in 事件处置 would be refused as a new action.
        await latest.execute_update(
            ComplaintWorkflow.report_progress, ProgressReport(actor=unit, note=sent[0]), id="progress-0"
        )
        ack = await latest.execute_update(
            ComplaintWorkflow.sign_for, UnitAction(actor=unit, note="已签收"), id="sign-once"
        )
        assert ack.step == Step.HANDLE
        carried = await view(latest)
        assert [e.kind for e in carried.timeline].count(EventKind.SIGNED) == 1
        assert (carried.clock, carried.lamp, carried.fired, carried.assignment) == (
            before.clock,
            before.lamp,
            before.fired,
            before.assignment,
        )
        assert [(t.unit, t.status) for t in carried.tasks] == [(t.unit, t.status) for t in before.tasks]
        assert carried.step == Step.HANDLE and carried.lead_unit == unit.unit and carried.signed
        assert [e.note for e in carried.timeline if e.kind == EventKind.PROGRESS][-1] == sent[-1]
        assert (
            carried.timeline_omitted + len(carried.timeline) == carried.seq
        )  # nothing lost, only left out of the view
        assert await eventually(lambda: progress_notes(engine, first.id) == sent)

        # The new run goes on with the loop: the unit completes, the grid verifier checks.
        ack = await latest.execute_update(ComplaintWorkflow.complete_task, Completion(actor=unit, result="车辆已挪走"))
        assert ack.step == Step.VERIFY
        ack = await latest.execute_update(
            ComplaintWorkflow.verify, Verification(actor=VERIFIER, passed=True, note="现场已核实")
        )
        assert ack.step != Step.VERIFY
        final = await view(latest)
        assert await eventually(lambda: projected_seqs(engine, first.id) == list(range(1, final.seq + 1)))

        await h.stop_worker()
        runs = await runs_of(env.client, first)
        assert len(runs) >= 2 and runs[-1].run_id == (await latest.describe()).run_id
        await replay_all(runs)
    finally:
        await h.stop_worker()
