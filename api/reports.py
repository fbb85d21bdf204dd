"""信息采集 — store a report first, then start its workflow, again and again until it exists.

The report row (with the citizen's personal data) is committed before Temporal is called, so a
report is never lost; (channel, channel_ref) is unique, so a retried POST finds the same case;
the workflow start uses the case code as its ID and rejects duplicates, so it is never doubled.
Database work runs in the database thread pool, and no connection is held while Temporal is awaited.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session
from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from config import Settings
from domain.district import District
from domain.messages import ComplaintInput
from domain.vocabulary import Channel
from store.db import Database
from store.tables import CaseCounter, Report
from workflows.complaint import ComplaintWorkflow

log = logging.getLogger("closeloop.intake")
BEIJING_OFFSET = 8 * 3600


def next_case_code(session: Session, district: District, now: datetime) -> str:
    """专属编码 ``WD-20261124-000042``: district prefix, Beijing date, a per-day counter."""
    day = datetime.fromtimestamp(now.timestamp() + BEIJING_OFFSET, tz=timezone.utc).strftime("%Y%m%d")
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    stmt = insert(CaseCounter).values(day=day, value=1)
    stmt = stmt.on_conflict_do_update(index_elements=["day"], set_={"value": CaseCounter.value + 1})
    value = session.execute(stmt.returning(CaseCounter.value)).scalar_one()
    return f"{district.code}-{day}-{value:06d}"


def _stored(session: Session, channel: Channel, channel_ref: str) -> Report | None:
    return session.execute(
        select(Report).where(Report.channel == channel.value, Report.channel_ref == channel_ref)
    ).scalar_one_or_none()


def store_report(db: Database, district: District, channel: Channel, fields: dict) -> tuple[Report, bool]:
    """Insert the report, or return the one already stored for (channel, channel_ref). Blocking."""
    try:
        with db.writing() as session:
            existing = _stored(session, channel, fields["channel_ref"])
            if existing:
                return existing, False
            now = datetime.now(timezone.utc)
            report = Report(case_code=next_case_code(session, district, now), channel=channel.value, received_at=now, **fields)
            session.add(report)
            session.flush()
            return report, True
    except IntegrityError:  # the same report raced in from a retry: answer with that one
        with db.reading() as session:
            return _stored(session, channel, fields["channel_ref"]), False


def mark_started(db: Database, report_id: int) -> None:
    with db.writing() as session:
        session.execute(update(Report).where(Report.id == report_id).values(workflow_started=True))


async def start_case(client: Client, settings: Settings, db: Database, report: Report) -> bool:
    """Start the report's workflow (idempotent); True once it exists. Temporal down: False."""
    inp = ComplaintInput(case_code=report.case_code, channel=Channel(report.channel), grid=report.grid,
                         category_hint=report.category_hint, reported_at=report.received_at)
    try:
        await client.start_workflow(
            ComplaintWorkflow.run, inp, id=report.case_code, task_queue=settings.task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        )
    except WorkflowAlreadyStartedError:
        pass  # it ran and ended already: started it is
    except Exception as err:  # Temporal unreachable: the relay tries again
        log.warning("case %s stored, workflow not started yet: %s", report.case_code, err)
        return False
    await db.run(mark_started, db, report.id)
    return True


@dataclass(frozen=True)
class Accepted:
    report: Report
    new: bool
    started: bool


async def accept(client: Client, settings: Settings, db: Database, district: District, channel: Channel,
                 fields: dict) -> Accepted:
    """Store the report, then start its workflow; a report stored but not started is relayed later."""
    report, new = await db.run(store_report, db, district, channel, fields)
    started = report.workflow_started or await start_case(client, settings, db, report)
    return Accepted(report, new, started)


def _pending(db: Database) -> list[Report]:
    with db.reading() as session:
        return list(session.execute(
            select(Report).where(Report.workflow_started == False).order_by(Report.id).limit(100)  # noqa: E712
        ).scalars().all())


async def relay(client: Client, settings: Settings, db: Database, stop: asyncio.Event) -> None:
    """Start every stored report whose workflow does not exist yet, until ``stop`` is set."""
    while not stop.is_set():
        try:
            for report in await db.run(_pending, db):
                if stop.is_set() or not await start_case(client, settings, db, report):
                    break
        except Exception:  # the database may be briefly away too; keep the loop alive
            log.exception("intake relay round failed")
        try:
            await asyncio.wait_for(stop.wait(), timeout=settings.intake_retry_seconds)
        except asyncio.TimeoutError:
            pass
