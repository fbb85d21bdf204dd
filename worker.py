"""The worker process: ComplaintWorkflow plus every activity, with their dependencies injected.

    ./closeloop worker      # against CLOSELOOP_TEMPORAL_ADDRESS, projecting into CLOSELOOP_DATABASE_URL

It runs in a process of its own (``dev`` starts it beside the API), so a burst of requests never
starves its workflow tasks. SIGTERM or Ctrl-C stops polling and lets in-flight activities finish
for ``graceful_shutdown_seconds``; whatever is cut short is retried by Temporal on the next worker.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from sqlalchemy import Engine
from temporalio.client import Client
from temporalio.worker import Worker

from activities.deadlines import DeadlineActivities
from activities.notify import Notifier, NotifyActivities, OutboxNotifier
from activities.projection import ProjectionActivities
from activities.routing import RoutingActivities
from config import Settings, get_settings
from domain.calendar import BusinessCalendar
from domain.district import District
from security.codec import data_converter
from store.db import Database, PoolTuning
from workflows.complaint import ComplaintWorkflow

log = logging.getLogger("closeloop.worker")


def make_calendar(settings: Settings) -> BusinessCalendar:
    kw = dict(tz=settings.timezone, uncovered=settings.calendar_uncovered)
    if settings.calendar_supplement:
        return BusinessCalendar.from_file(settings.calendar_supplement, **kw)
    return BusinessCalendar(**kw)


def build_worker(
    client: Client,
    settings: Settings,
    db: Database | Engine,
    district: District | None = None,
    notifier: Notifier | None = None,
    **worker_options,
) -> Worker:
    """The worker with its activities. ``notifier`` serves only cases started before the ``lean-effects``
    patch (they send notices through an activity); newer cases write theirs with the projection."""
    if isinstance(db, Engine):  # tests hold an engine of their own
        db = Database.of(db, PoolTuning.of(settings))
    routing = RoutingActivities(district or District.load(settings.district_file, settings.policy_file))
    deadlines = DeadlineActivities(make_calendar(settings))
    activities = [
        ProjectionActivities(db).project,
        routing.plan_case,
        routing.parent_unit,
        deadlines.compute_clock,
        deadlines.compute_deadline,
        NotifyActivities(notifier or OutboxNotifier(db)).notify,
    ]
    tuning = dict(
        max_cached_workflows=settings.max_cached_workflows,
        max_concurrent_workflow_tasks=settings.max_concurrent_workflow_tasks,
        max_concurrent_local_activities=settings.max_concurrent_local_activities,
        max_concurrent_workflow_task_polls=settings.workflow_task_pollers,
        max_concurrent_activity_task_polls=settings.activity_task_pollers,
        graceful_shutdown_timeout=timedelta(seconds=settings.graceful_shutdown_seconds),
    )
    return Worker(
        client,
        task_queue=settings.task_queue,
        workflows=[ComplaintWorkflow],
        activities=activities,
        activity_executor=ThreadPoolExecutor(max_workers=settings.activity_threads),
        max_concurrent_activities=settings.activity_threads,  # no task waits for a thread past its timeout
        **{**tuning, **worker_options},
    )


async def connect(settings: Settings) -> Client:
    return await Client.connect(
        settings.temporal_address, namespace=settings.temporal_namespace, data_converter=data_converter(settings)
    )


async def connect_when_ready(settings: Settings, seconds: float = 60.0) -> Client:
    """Connect, waiting for a server that is still starting (``dev`` starts both at once)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while True:
        try:
            return await connect(settings)
        except Exception:
            if loop.time() > deadline:
                raise
            await asyncio.sleep(0.5)


async def serve(settings: Settings) -> None:
    """Run the worker until SIGTERM or SIGINT, then shut down gracefully."""
    db = Database(settings.database_url, PoolTuning.of(settings))
    await db.run(db.create_schema)
    client = await connect_when_ready(settings)
    worker = build_worker(client, settings, db)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    log.info(
        "worker on %s / %s, task queue %s", settings.temporal_address, settings.temporal_namespace, settings.task_queue
    )
    running = asyncio.create_task(worker.run())
    await asyncio.wait([running, asyncio.create_task(stop.wait())], return_when=asyncio.FIRST_COMPLETED)
    if not running.done():
        log.info("worker stopping: in-flight activities get %ss", settings.graceful_shutdown_seconds)
        await worker.shutdown()
    await running
    db.dispose()


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    asyncio.run(serve(get_settings()))


if __name__ == "__main__":
    main()
