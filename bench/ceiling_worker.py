"""The ceiling workflow's own worker process: ``python -m bench.ceiling_worker ADDRESS TASK_QUEUE``.

A process of its own, like closeloop's worker, with closeloop's worker tuning (config.Settings),
so the two are compared on equal terms. Runs until SIGTERM.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from datetime import timedelta

from temporalio.client import Client
from temporalio.worker import Worker

from bench.ceiling_workflow import CeilingWorkflow, touch
from config import Settings


async def serve(address: str, task_queue: str) -> None:
    settings = Settings()
    client = await Client.connect(address, namespace=settings.temporal_namespace)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    worker = Worker(
        client,
        task_queue=task_queue,
        workflows=[CeilingWorkflow],
        activities=[touch],
        max_cached_workflows=settings.max_cached_workflows,
        max_concurrent_workflow_tasks=settings.max_concurrent_workflow_tasks,
        max_concurrent_local_activities=settings.max_concurrent_local_activities,
        max_concurrent_workflow_task_polls=settings.workflow_task_pollers,
        max_concurrent_activity_task_polls=settings.activity_task_pollers,
        max_concurrent_activities=settings.activity_threads,
        graceful_shutdown_timeout=timedelta(seconds=2),
    )
    async with worker:
        await stop.wait()


if __name__ == "__main__":
    asyncio.run(serve(sys.argv[1], sys.argv[2]))
