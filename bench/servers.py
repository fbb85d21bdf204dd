"""One closeloop stack of the benchmark's own: a Temporal dev server (file-backed, in a temporary
directory, on free ports), a fresh projection database, the worker process and the API process.

Everything listens on 127.0.0.1 only. ``async with Stack(...)`` starts it and always stops it
(also on Ctrl-C), dropping the database and removing the temporary directory.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sysconfig
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from bench.database import BenchDatabase, DatabaseKind
from bench.processes import REPO, Child, Processes, api_argv, free_port, worker_argv

TEMPORAL = Path(sysconfig.get_path("scripts")) / "temporal"
DEV_KEYS = REPO / "deploy" / "dev-keys.json"
NAMESPACE = "default"


class StackError(RuntimeError):
    pass


@dataclass(frozen=True)
class StackConfig:
    label: str
    policy: Path
    database: DatabaseKind = "sqlite"


class Stack:
    def __init__(self, config: StackConfig, processes: Processes) -> None:
        self.config, self.processes = config, processes
        self.folder = Path(tempfile.mkdtemp(prefix=f"closeloop-bench-{config.label}-"))
        self.db = BenchDatabase(config.database, self.folder)
        self.temporal_port, self.api_port = free_port(), free_port()
        self.task_queue = f"bench-{uuid.uuid4().hex[:8]}"
        self.temporal: Child | None = None
        self.worker: Child | None = None
        self.api: Child | None = None
        self.client: Client | None = None

    @property
    def temporal_address(self) -> str:
        return f"127.0.0.1:{self.temporal_port}"

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def temporal_db(self) -> Path:
        return self.folder / "temporal.db"

    def env(self) -> dict[str, str]:
        closeloop = {
            "TEMPORAL_ADDRESS": self.temporal_address,
            "TEMPORAL_NAMESPACE": NAMESPACE,
            "DATABASE_URL": self.db.url,
            "TASK_QUEUE": self.task_queue,
            "API_HOST": "127.0.0.1",
            "API_PORT": str(self.api_port),
            "PUBLIC_BASE_URL": self.api_url,
            "API_KEYS_FILE": str(DEV_KEYS),
            "POLICY_FILE": str(self.config.policy.resolve()),
        }
        keep = {k: v for k, v in os.environ.items() if not k.startswith("CLOSELOOP_")}
        return {**keep, **{f"CLOSELOOP_{k}": v for k, v in closeloop.items()}, "NO_PROXY": "127.0.0.1,localhost"}

    # --- lifecycle -------------------------------------------------------------------------

    async def __aenter__(self) -> Stack:
        try:
            await self.start()
        except BaseException:
            await self.stop()
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def start(self) -> None:
        self.db.create()
        self.temporal = self.processes.spawn(
            "temporal",
            [
                str(TEMPORAL),
                "server",
                "start-dev",
                "--ip",
                "127.0.0.1",
                "--port",
                str(self.temporal_port),
                "--headless",
                "--http-port",
                str(free_port()),
                "--metrics-port",
                str(free_port()),
                "--db-filename",
                str(self.temporal_db),
                "--log-level",
                "error",
            ],
            self.folder,
        )
        self.client = await self._connect()
        self.api = self.processes.spawn("api", api_argv(self.api_port), self.folder, self.env())
        await self._wait_api()
        await self.start_worker()

    async def stop(self) -> None:
        for child in (self.api, self.worker, self.temporal):
            if child is not None:
                await asyncio.to_thread(self.processes.stop, child)
        self.api = self.worker = self.temporal = None
        try:
            self.db.drop()
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)

    async def start_worker(self) -> float:
        """Start the worker process; returns the monotonic time it first polled."""
        self.worker = self.processes.spawn("worker", worker_argv(), self.folder, self.env())
        return await self.wait_for_poller(self.task_queue, self.worker)

    async def stop_worker(self) -> None:
        if self.worker is not None:
            await asyncio.to_thread(self.processes.stop, self.worker, 60.0)
            self.worker = None

    # --- readiness -------------------------------------------------------------------------

    async def _connect(self, seconds: float = 90.0) -> Client:
        limit = time.monotonic() + seconds
        while True:
            assert self.temporal is not None
            if not self.temporal.alive:
                raise StackError(f"Temporal dev server exited:\n{self.temporal.tail()}")
            try:
                return await Client.connect(
                    self.temporal_address, namespace=NAMESPACE, data_converter=pydantic_data_converter
                )
            except Exception:
                if time.monotonic() > limit:
                    raise StackError(f"Temporal did not answer on {self.temporal_address}") from None
                await asyncio.sleep(0.5)

    async def _wait_api(self, seconds: float = 90.0) -> None:
        limit = time.monotonic() + seconds
        async with httpx.AsyncClient(base_url=self.api_url, timeout=5.0, trust_env=False) as http:
            while True:
                assert self.api is not None
                if not self.api.alive:
                    raise StackError(f"API process exited:\n{self.api.tail()}")
                try:
                    if (await http.get("/health")).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                if time.monotonic() > limit:
                    raise StackError(f"API did not become healthy on {self.api_url}:\n{self.api.tail()}")
                await asyncio.sleep(0.3)

    async def wait_for_poller(self, task_queue: str, child: Child, seconds: float = 90.0) -> float:
        """Wait until ``child`` (by pid in the poller identity) polls ``task_queue``'s workflow tasks."""
        assert self.client is not None
        request = DescribeTaskQueueRequest(
            namespace=NAMESPACE,
            task_queue=TaskQueue(name=task_queue),
            task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
        )
        limit = time.monotonic() + seconds
        while True:
            if not child.alive:
                raise StackError(f"{child.name} process exited:\n{child.tail()}")
            answer = await self.client.workflow_service.describe_task_queue(request)
            if any(p.identity.startswith(f"{child.pid}@") for p in answer.pollers):
                return time.monotonic()
            if time.monotonic() > limit:
                raise StackError(f"{child.name} did not poll {task_queue} within {seconds:.0f}s:\n{child.tail()}")
            await asyncio.sleep(0.2)

    def rss(self) -> dict[str, int | None]:
        return {
            name: (c.rss() if c else None)
            for name, c in (("worker", self.worker), ("api", self.api), ("temporal", self.temporal))
        }
