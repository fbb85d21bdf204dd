"""The worker process: ComplaintWorkflow plus every activity, with their dependencies injected.

    python worker.py        # against CLOSELOOP_TEMPORAL_ADDRESS, projecting into CLOSELOOP_DATABASE_URL
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import Engine
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Worker

from activities.deadlines import DeadlineActivities
from activities.notify import Notifier, NotifyActivities, OutboxNotifier
from activities.projection import ProjectionActivities
from activities.routing import RoutingActivities
from config import Settings, get_settings
from domain.calendar import BusinessCalendar
from domain.district import District
from store.db import create_schema, make_engine
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
    engine: Engine,
    district: District | None = None,
    notifier: Notifier | None = None,
    **worker_options,
) -> Worker:
    routing = RoutingActivities(district or District.load(settings.district_file, settings.policy_file))
    deadlines = DeadlineActivities(make_calendar(settings))
    activities = [
        ProjectionActivities(engine).project,
        routing.plan_case,
        routing.parent_unit,
        deadlines.compute_clock,
        deadlines.compute_deadline,
        NotifyActivities(notifier or OutboxNotifier(engine)).notify,
    ]
    return Worker(
        client,
        task_queue=settings.task_queue,
        workflows=[ComplaintWorkflow],
        activities=activities,
        activity_executor=ThreadPoolExecutor(max_workers=settings.activity_threads),
        max_concurrent_activities=settings.activity_threads,  # no task waits for a thread past its timeout
        **worker_options,
    )


async def connect(settings: Settings) -> Client:
    return await Client.connect(
        settings.temporal_address, namespace=settings.temporal_namespace, data_converter=pydantic_data_converter
    )


async def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = get_settings()
    engine = make_engine(settings.database_url)
    create_schema(engine)
    client = await connect(settings)
    log.info("worker on %s / %s, task queue %s", settings.temporal_address, settings.temporal_namespace, settings.task_queue)
    await build_worker(client, settings, engine).run()


if __name__ == "__main__":
    asyncio.run(main())
