"""Test harness: real Temporal servers from the installed wheels, a real database, the real worker."""

from __future__ import annotations

import asyncio
import os
import stat
import sysconfig
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import libfaketime
from sqlalchemy import Engine
from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer, Worker

from config import Settings
from domain.messages import Actor, CaseView, ComplaintInput, Registration
from domain.vocabulary import Channel, Role
from worker import build_worker
from workflows.complaint import ComplaintWorkflow

SCRIPTS = Path(sysconfig.get_path("scripts"))
TEST_SERVER = SCRIPTS / "temporal-test-server"
DEV_SERVER = SCRIPTS / "temporal"
FAKETIME_LIB = Path(libfaketime.__file__).parent / "vendor" / "libfaketime" / "src" / "libfaketime.so.1"

SUPERVISOR = Actor(role=Role.SUPERVISOR, user="dispatcher-1")
VERIFIER = Actor(role=Role.VERIFIER, unit="G-LS-XL-01", user="grid-member-7")
CITIZEN = Actor(role=Role.CITIZEN)


def staff(unit: str) -> Actor:
    return Actor(role=Role.UNIT_STAFF, unit=unit, user=f"staff-{unit}")


def test_server_at(start: datetime | None, folder: Path) -> Path:
    """The wheel's time-skipping server, or a wrapper that starts its clock at ``start``.

    Today's date has no statutory holiday ahead that the calendar data covers, so holiday
    scenarios run the server with libfaketime (built from PyPI, nothing downloaded at run time).
    """
    if start is None:
        return TEST_SERVER
    utc = start.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
    script = folder / "test-server-at.sh"
    script.write_text(
        "#!/bin/sh\n"
        f"export TZ=UTC LD_PRELOAD='{FAKETIME_LIB}' FAKETIME='@{utc}' FAKETIME_DONT_RESET=1\n"
        f"exec '{TEST_SERVER}' \"$@\"\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return script


@dataclass
class Harness:
    env: WorkflowEnvironment
    client: Client
    settings: Settings
    engine: Engine
    handles: list[WorkflowHandle] = field(default_factory=list)
    worker: Worker | None = None
    _running: asyncio.Task | None = None

    async def start_worker(self, **kw: Any) -> None:
        self.worker = build_worker(self.client, self.settings, self.engine, **kw)
        self._running = asyncio.create_task(self.worker.run())

    async def stop_worker(self) -> None:
        if self.worker and self._running and not self._running.done():
            await self.worker.shutdown()
            await self._running
        self.worker = self._running = None

    async def start(
        self, grid: str = "G-LS-XL-01", channel: Channel = Channel.HOTLINE, hint: str | None = None
    ) -> WorkflowHandle:
        code = f"WD-T-{uuid.uuid4().hex[:10].upper()}"
        inp = ComplaintInput(
            case_code=code, channel=channel, grid=grid, category_hint=hint, reported_at=datetime.now(UTC)
        )
        handle = await self.client.start_workflow(
            ComplaintWorkflow.run, inp, id=code, task_queue=self.settings.task_queue
        )
        self.handles.append(handle)
        return handle

    async def register(self, handle: WorkflowHandle, category: str, **kw: Any) -> CaseView:
        await handle.execute_update(ComplaintWorkflow.register, Registration(actor=SUPERVISOR, category=category, **kw))
        return await view(handle)


async def view(handle: WorkflowHandle) -> CaseView:
    return await handle.query(ComplaintWorkflow.view)


async def rejected(call) -> tuple[str, str]:
    """Run an update that must be rejected; return (error type, message)."""
    try:
        await call
    except WorkflowUpdateFailedError as err:
        cause = err.cause
        return getattr(cause, "type", None), getattr(cause, "message", str(cause))
    raise AssertionError("the update was accepted")


async def eventually(probe: Callable[[], Any], timeout: float = 20.0, interval: float = 0.1) -> Any:
    """Poll ``probe`` (sync or async) until it returns a truthy value, or fail after ``timeout``."""
    deadline, last = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        last = probe()
        if asyncio.iscoroutine(last):
            last = await last
        if last:
            return last
        await asyncio.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s (last: {last!r})")


@asynccontextmanager
async def time_skipping(engine: Engine, folder: Path, start: datetime | None = None) -> AsyncIterator[Harness]:
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=pydantic_data_converter, test_server_existing_path=str(test_server_at(start, folder))
    )
    settings = Settings(task_queue=f"tq-{uuid.uuid4().hex[:8]}", database_url=str(engine.url))
    harness = Harness(env, env.client, settings, engine)
    try:
        await harness.start_worker()
        yield harness
        await harness.stop_worker()
        await replay_all(harness.handles)
    finally:
        await harness.stop_worker()
        await env.shutdown()


HISTORIES = Path(__file__).parent / "histories"


async def replay_all(handles: list[WorkflowHandle]) -> None:
    """Every history a test produced must replay without non-determinism; with
    CLOSELOOP_RECORD_HISTORIES=1 they are also written to tests/histories/ to be committed."""
    if not handles:
        return
    histories = [await h.fetch_history() for h in handles]
    replayer = Replayer(workflows=[ComplaintWorkflow], data_converter=pydantic_data_converter)
    async with replayer.workflow_replay_iterator(_iter(histories)) as results:
        async for result in results:
            if result.replay_failure:
                raise AssertionError("a recorded history failed to replay") from result.replay_failure
    if os.environ.get("CLOSELOOP_RECORD_HISTORIES"):
        HISTORIES.mkdir(exist_ok=True)
        name = os.environ.get("PYTEST_CURRENT_TEST", "case").split("::")[-1].split(" ")[0]
        for run, history in enumerate(histories):
            runs = [h.workflow_id for h in histories].count(history.workflow_id)
            suffix = f"-run{run}" if runs > 1 else ""  # the runs of a case that continued as new
            (HISTORIES / f"{name}-{history.workflow_id}{suffix}.json").write_text(history.to_json())


async def _iter(items):
    for item in items:
        yield item


def database_url(tmp: Path) -> str:
    return os.environ.get("CLOSELOOP_TEST_DATABASE_URL") or f"sqlite:///{tmp / 'closeloop-test.db'}"
