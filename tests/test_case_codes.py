"""Case codes are never reused: a database restored to an earlier state, under a Temporal that kept
running, hands out codes whose workflows exist. The new report gets the next free code and its own
workflow; the older case is left exactly as it was."""

from __future__ import annotations

from sqlalchemy import delete
from sqlmodel import Session, select

from store.db import create_schema, make_engine
from store.tables import CaseCounter, CaseRow, OutboxRow, Report, TaskRow, TimelineRow
from tests.api_support import api_stack, as_, own_prefix
from tests.support import eventually
from workflows.complaint import ComplaintWorkflow


def restore_to_empty(engine) -> None:
    """What a restore of last night's backup does to today's rows: they are gone."""
    with Session(engine) as session:
        for table in (TimelineRow, TaskRow, OutboxRow, CaseRow, Report, CaseCounter):
            session.exec(delete(table))
        session.commit()


async def timeline(s, code: str) -> list[str]:
    """From the workflow itself: the restored database no longer knows the older case."""
    view = await s.client.get_workflow_handle_for(ComplaintWorkflow.run, code).query(ComplaintWorkflow.view)
    return [e.kind.value for e in view.timeline]


async def register(s, code: str) -> None:
    async def done():
        r = await s.http.post(f"/cases/{code}/register", json={"category": "JM-002"}, headers=as_("k-supervisor"))
        return r.status_code == 200 and r.json()["step"] == "dispatch"

    await eventually(done)


async def test_a_restored_database_never_reuses_a_code_that_temporal_knows(dev_env, tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'restored.db'}")
    create_schema(engine)
    district, district_file = own_prefix(tmp_path, "RS")
    try:
        async with api_stack(engine, dev_env, district=district, district_file=district_file) as s:
            first = await s.report(description="路口红绿灯不亮，车辆通行混乱")
            await register(s, first["case_code"])
            before = await timeline(s, first["case_code"])

            restore_to_empty(engine)
            second = await s.report(description="小区门口有车辆长期违规停放，影响通行")
            assert second["status"] == "started" and second["case_code"] != first["case_code"], second
            assert second["tracking_url"].split("?")[0].endswith(second["case_code"])
            await register(s, second["case_code"])

            assert await timeline(s, second["case_code"]) == ["collected", "accepted", "dispatched"]
            assert await timeline(s, first["case_code"]) == before  # the older case did not get a second report
            with Session(engine) as session:
                stored = session.exec(select(Report)).one()  # the one report the restored database holds
            assert stored.case_code == second["case_code"] and stored.workflow_started
    finally:
        engine.dispose()
