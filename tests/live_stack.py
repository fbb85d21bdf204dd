"""The stack as it runs in production, for load and shutdown tests: ``python -m cli worker`` and
``python -m cli api`` as real processes against a real Temporal server and a fresh database
(a SQLite file, or a PostgreSQL database created for the test and dropped after it)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psycopg
import pytest
from sqlalchemy.engine import make_url

from tests.api_support import KEYS
from tests.support import DEV_SERVER

# Where load tests create their PostgreSQL databases: CI's server, or this machine's.
PG_URL = make_url(
    os.environ.get("CLOSELOOP_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def fresh_database(kind: str, folder: Path) -> Iterator[str]:
    """The URL of an empty database of ``kind`` ("sqlite" or "postgresql"), removed afterwards."""
    if kind == "sqlite":
        yield f"sqlite:///{folder / 'load.db'}"
        return
    name = f"closeloop_load_{uuid.uuid4().hex[:10]}"
    admin_url = PG_URL.set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        admin = psycopg.connect(admin_url, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as err:
        if os.environ.get("CLOSELOOP_TEST_DATABASE_URL"):  # CI: PostgreSQL is part of the run, never skipped
            raise
        pytest.skip(f"PostgreSQL is not reachable at {PG_URL}: {err}")
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield PG_URL.set(database=name).render_as_string(hide_password=False)
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass
class LiveStack:
    folder: Path
    database_url: str
    settings: dict[str, str] = field(default_factory=dict)  # more CLOSELOOP_* settings, without the prefix

    def __post_init__(self) -> None:
        # A Temporal of its own: case codes restart with each fresh database, workflow IDs must not collide.
        self.temporal_address = f"127.0.0.1:{free_port()}"
        self.api_port = free_port()
        self.url = f"http://127.0.0.1:{self.api_port}"
        self.task_queue = f"live-{uuid.uuid4().hex[:8]}"
        self.children: dict[str, subprocess.Popen] = {}
        keys = {k: v.model_dump(mode="json") for k, v in KEYS.items()}
        (self.folder / "keys.json").write_text(json.dumps(keys))

    def env(self) -> dict[str, str]:
        own = {
            "TEMPORAL_ADDRESS": self.temporal_address,
            "DATABASE_URL": self.database_url,
            "TASK_QUEUE": self.task_queue,
            "API_PORT": str(self.api_port),
            "API_KEYS_FILE": str(self.folder / "keys.json"),
            "INTAKE_RETRY_SECONDS": "0.2",
        }
        keep = {k: v for k, v in os.environ.items() if not k.startswith("CLOSELOOP_")}
        own.update(self.settings)
        return {
            **keep,
            **{f"CLOSELOOP_{k}": v for k, v in own.items()},
            "PYTHONUNBUFFERED": "1",
            "NO_PROXY": "127.0.0.1",
        }

    def start(self, name: str) -> None:
        """Start ``temporal`` (a dev server on a file in the folder), ``worker`` or ``api``."""
        argv = [sys.executable, "-m", "cli", name]
        if name == "temporal":
            host, _, port = self.temporal_address.rpartition(":")
            argv = [
                str(DEV_SERVER),
                "server",
                "start-dev",
                "--headless",
                "--ip",
                host,
                "--port",
                port,
                "--http-port",
                str(free_port()),
                "--metrics-port",
                str(free_port()),
                "--log-level",
                "error",
                "--db-filename",
                str(self.folder / "temporal.db"),
            ]  # file-backed: it survives a kill
        log = open(self.folder / f"{name}.log", "ab")
        self.children[name] = subprocess.Popen(
            argv, env=self.env(), stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
        )
        log.close()

    def stop(self, name: str, timeout: float = 15.0) -> float:
        """SIGTERM one process; the seconds it took to exit (it is killed, and the test fails, past ``timeout``)."""
        child = self.children.pop(name)
        began = time.monotonic()
        child.send_signal(signal.SIGTERM)
        try:
            child.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
            raise AssertionError(f"{name} ignored SIGTERM for {timeout}s\n{self.log(name)}") from None
        return time.monotonic() - began

    def kill(self, name: str) -> None:
        """SIGKILL: no shutdown, nothing flushed — what a crash or an OOM kill does."""
        child = self.children.pop(name)
        child.kill()
        child.wait()

    def log(self, name: str) -> str:
        return (self.folder / f"{name}.log").read_text(errors="replace")[-4000:]

    def wait_healthy(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for name, child in self.children.items():
                assert child.poll() is None, f"{name} exited\n{self.log(name)}"
            try:
                if httpx.get(f"{self.url}/health", timeout=2, trust_env=False).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"the API was not healthy within {timeout}s\n{self.log('api')}")


@contextmanager
def live_stack(folder: Path, database_url: str, **settings: str) -> Iterator[LiveStack]:
    stack = LiveStack(folder, database_url, settings)
    try:
        stack.start("temporal")
        stack.start("worker")
        stack.start("api")
        stack.wait_healthy()
        yield stack
    finally:
        for child in stack.children.values():
            if child.poll() is None:
                child.kill()
                child.wait()
