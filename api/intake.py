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
from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session
from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from config import Settings
from domain.district import District
from domain.messages import ComplaintInput
from domain.vocabulary import LOCAL_TZ, Channel
from store.db import Database, upsert_insert
from store.tables import CaseCounter, Report
from workflows.complaint import ComplaintWorkflow

log = logging.getLogger("closeloop.intake")
_STARTING: set[asyncio.Task] = set()  # starts that outlived their intake request (kept from GC)
RECODE_LIMIT = 10_000  # codes skipped in a row before giving up: more than a day's worth lost


def next_case_code(session: Session, district: District, now: datetime) -> str:
    """专属编码 ``WD-20261124-000042``: district prefix, Beijing date, a per-day counter."""
    day = now.astimezone(LOCAL_TZ).strftime("%Y%m%d")
    stmt = upsert_insert(session.get_bind().dialect.name)(CaseCounter).values(day=day, value=1)
    stmt = stmt.on_conflict_do_update(index_elements=["day"], set_={"value": CaseCounter.value + 1})
    value = session.execute(stmt.returning(CaseCounter.value)).scalar_one()
    return f"{district.code}-{day}-{value:06d}"


def tracking_url(settings: Settings, report: Report) -> str:
    """The citizen's tracking link: it carries the evaluation token, so it goes to the reporter only."""
    return f"{settings.public_base_url}/citizen/cases/{report.case_code}?token={report.citizen_token}"


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
            now = datetime.now(UTC)
            report = Report(
                case_code=next_case_code(session, district, now), channel=channel.value, received_at=now, **fields
            )
            session.add(report)
            session.flush()
            return report, True
    except IntegrityError:  # the same report raced in from a retry: answer with that one
        with db.reading() as session:
            return _stored(session, channel, fields["channel_ref"]), False


def mark_started(db: Database, report_id: int) -> None:
    with db.writing() as session:
        session.execute(update(Report).where(Report.id == report_id).values(workflow_started=True))


def recode(db: Database, district: District, report_id: int) -> Report:
    """Give the report the next case code: its own is taken by a workflow the database forgot
    (the database was restored to an earlier state while Temporal kept running). Blocking."""
    with db.writing() as session:
        report = session.get(Report, report_id)
        old, report.case_code = report.case_code, next_case_code(session, district, datetime.now(UTC))
        log.warning("case code %s is taken by an older workflow; report %s is now %s", old, report_id, report.case_code)
        return report


async def _is_ours(client: Client, report: Report) -> bool:
    """Whether the existing workflow with the report's code was started for this very report."""
    handle = client.get_workflow_handle(report.case_code)
    async for event in handle.fetch_history_events():
        (started,) = await client.data_converter.decode(
            event.workflow_execution_started_event_attributes.input.payloads, [ComplaintInput]
        )
        return started.channel.value == report.channel and started.reported_at == _utc(report.received_at)
    return False


def _utc(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)


async def start_case(
    client: Client, settings: Settings, db: Database, district: District, report: Report
) -> Report | None:
    """Start the report's workflow; the report as started (its code may have changed, see
    :func:`recode`), or None while Temporal is unreachable (the relay tries again)."""
    for _ in range(RECODE_LIMIT):
        inp = ComplaintInput(
            case_code=report.case_code,
            channel=Channel(report.channel),
            grid=report.grid,
            category_hint=report.category_hint,
            reported_at=_utc(report.received_at),
        )
        try:
            await client.start_workflow(
                ComplaintWorkflow.run,
                inp,
                id=report.case_code,
                task_queue=settings.task_queue,
                id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            )
        except WorkflowAlreadyStartedError:
            try:
                if not await _is_ours(client, report):  # a retry of ours is started already: that is fine
                    report = await db.run(recode, db, district, report.id)
                    continue
            except Exception as err:
                log.warning("case %s: could not check the existing workflow yet: %s", report.case_code, err)
                return None
        except Exception as err:  # Temporal unreachable: the relay tries again
            log.warning("case %s stored, workflow not started yet: %s", report.case_code, err)
            return None
        await db.run(mark_started, db, report.id)
        return report
    raise RuntimeError(f"report {report.id}: {RECODE_LIMIT} case codes in a row were taken")


@dataclass(frozen=True)
class Accepted:
    report: Report
    new: bool
    started: bool


async def accept(
    client: Client, settings: Settings, db: Database, district: District, channel: Channel, fields: dict
) -> Accepted:
    """Store the report, then start its workflow; a report stored but not started is relayed later."""
    report, new = await db.run(store_report, db, district, channel, fields)
    if report.workflow_started:
        return Accepted(report, new, True)
    # The report is stored: that is what 202 promises. The start gets a short wait; past it the
    # caller hears "queued" and the start carries on (and the relay would retry it).
    starting = asyncio.create_task(start_case(client, settings, db, district, report))
    _STARTING.add(starting)
    starting.add_done_callback(_STARTING.discard)
    done, _ = await asyncio.wait({starting}, timeout=settings.intake_start_wait_seconds)
    started = starting.result() if done else None
    return Accepted(started or report, new, started is not None)


def _pending(db: Database) -> list[Report]:
    with db.reading() as session:
        return list(
            session.execute(
                select(Report).where(Report.workflow_started == False).order_by(Report.id).limit(100)  # noqa: E712
            )
            .scalars()
            .all()
        )


async def relay(client: Client, settings: Settings, db: Database, district: District, stop: asyncio.Event) -> None:
    """Start every stored report whose workflow does not exist yet, until ``stop`` is set."""
    while not stop.is_set():
        try:
            for report in await db.run(_pending, db):
                if stop.is_set() or not await start_case(client, settings, db, district, report):
                    break
        except Exception:  # the database may be briefly away too; keep the loop alive
            log.exception("intake relay round failed")
        try:
            await asyncio.wait_for(stop.wait(), timeout=settings.intake_retry_seconds)
        except TimeoutError:
            pass
