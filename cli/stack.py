"""``dev`` runs the whole stack on one machine as three processes; ``worker`` and ``api`` run one each.

The worker and the API are separate processes so that a burst of requests can never starve the
worker's workflow tasks (and a slow query in one never stalls the other's event loop). ``dev``
supervises them: each child runs in a session of its own (a terminal's Ctrl-C reaches ``dev``
only) and dies with it (``PR_SET_PDEATHSIG``), and on SIGTERM or Ctrl-C ``dev`` stops them in
order — the API first (no new actions; open requests finish), then the worker (in-flight
activities finish), then Temporal — within :data:`SHUTDOWN_SECONDS`.
"""

from __future__ import annotations

import ctypes
import json
import logging
import os
import signal
import subprocess
import sys
import sysconfig
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import click
import httpx

from cli import LOADED_DISTRICT, STATE, dev_settings, main
from cli.accounts import DEV_PASSWORD, seed_dev_users
from config import Settings, get_settings

SHUTDOWN_SECONDS = 14.0  # the whole of dev stops within this (the promise is 15 s)
READY_SECONDS = 120.0  # first start of the dev server creates its database
PR_SET_PDEATHSIG = 1
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def _die_with_parent() -> None:  # runs in the child between fork and exec
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except OSError:  # not Linux: the ordered shutdown below still applies
        pass


@dataclass
class Child:
    name: str
    popen: subprocess.Popen
    stop_signal: int = signal.SIGTERM

    @property
    def alive(self) -> bool:
        return self.popen.poll() is None

    def stop(self, deadline: float) -> None:
        """Signal, wait until ``deadline`` (monotonic), then kill."""
        if self.alive:
            self.popen.send_signal(self.stop_signal)
            try:
                self.popen.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                click.echo(f"closeloop: {self.name} did not stop in time; killed", err=True)
                self.popen.kill()
                self.popen.wait()


def _spawn(name: str, argv: list[str], env: dict[str, str], stop_signal: int = signal.SIGTERM) -> Child:
    popen = subprocess.Popen(
        argv, env=env, stdin=subprocess.DEVNULL, start_new_session=True, preexec_fn=_die_with_parent
    )
    return Child(name, popen, stop_signal)


def child_env(settings: Settings) -> dict[str, str]:
    """The environment that gives ``worker`` and ``api`` the same settings as ``dev`` resolved."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    for name in ("api_keys_file", "district_file", "policy_file", "payload_keys_file"):
        value = getattr(settings, name)
        if value is not None:
            env[f"CLOSELOOP_{name.upper()}"] = str(Path(value).resolve())
    if settings.public_docs:
        env["CLOSELOOP_PUBLIC_DOCS"] = "true"
    if settings.codec_cors_origins:
        env["CLOSELOOP_CODEC_CORS_ORIGINS"] = json.dumps(settings.codec_cors_origins)
    return env


def _temporal(settings: Settings, ui_port: int, env: dict[str, str]) -> Child:
    host, _, port = settings.temporal_address.rpartition(":")
    binary = Path(sysconfig.get_path("scripts")) / "temporal"
    return _spawn(
        "Temporal",
        [
            str(binary),
            "server",
            "start-dev",
            "--ip",
            host,
            "--port",
            port,
            "--ui-port",
            str(ui_port),
            "--ui-codec-endpoint",  # the Web UI decrypts payloads through the API (api/routes/codec.py)
            f"http://{settings.api_host}:{settings.api_port}/codec",
            "--db-filename",
            str(STATE / "temporal.db"),
            "--namespace",
            settings.temporal_namespace,
            "--log-level",
            "warn",
        ],
        env,
        signal.SIGINT,
    )


def _wait_healthy(settings: Settings, children: list[Child], stop: threading.Event) -> bool:
    """Until the API's /health answers 200; False if a child exits or ``stop`` is set first."""
    url = f"http://{settings.api_host}:{settings.api_port}/health"
    deadline = time.monotonic() + READY_SECONDS
    while time.monotonic() < deadline and not stop.is_set():
        if any(not c.alive for c in children):
            return False
        try:
            if httpx.get(url, timeout=2.0, trust_env=False).status_code == 200:
                return True
        except httpx.TransportError:
            pass
        stop.wait(0.3)
    return False


def _banner(settings: Settings, ui_port: int, demo: bool) -> str:
    source = (
        "from ./closeloop catalog load"
        if Path(settings.district_file) == LOADED_DISTRICT
        else ("CLOSELOOP_DISTRICT_FILE" if "district_file" in settings.model_fields_set else "the sample")
    )
    api = f"http://{settings.api_host}:{settings.api_port}"
    return (
        f"\ncloseloop is running\n"
        f"  Temporal gRPC      {settings.temporal_address} (namespace {settings.temporal_namespace})\n"
        f"  Temporal Web UI    http://127.0.0.1:{ui_port}\n"
        f"  API docs           {api}/docs\n"
        f"  Web pages          {api}/ui/login (accounts as in the API key file, password {DEV_PASSWORD})\n"
        f"  API keys           {settings.api_keys_file or 'CLOSELOOP_API_KEYS'}\n"
        f"  payload keys       {settings.payload_keys_file or 'CLOSELOOP_PAYLOAD_KEYS'}"
        f" (encrypting with {settings.current_payload_key_id()})\n"
        f"  district           {settings.district_file} ({source})\n"
        f"  time limits        {settings.policy_file or 'the district policy'}{' (demo: minutes)' if demo else ''}\n"
        f"  database           {settings.database_url}\n"
        f"  task queue         {settings.task_queue}\n"
        f"Press Ctrl-C to stop.\n"
    )


def _stop_on_signals() -> threading.Event:
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    return stop


@main.command()
@click.option("--ui-port", default=8233, show_default=True, help="Temporal Web UI port")
@click.option("--demo", is_flag=True, help="演示时限：分钟而非工作日 (domain/data/demo_policy.json)")
def dev(ui_port: int, demo: bool) -> None:
    """Start the Temporal dev server (with Web UI), the worker and the API; Ctrl-C stops all."""
    from domain.district import District
    from store.db import Database, PoolTuning

    stop = _stop_on_signals()
    settings = dev_settings(demo)
    if "codec_cors_origins" not in settings.model_fields_set:  # the Web UI calls the codec endpoint
        origins = [f"http://{host}:{ui_port}" for host in ("127.0.0.1", "localhost")]
        settings = settings.model_copy(update={"codec_cors_origins": origins})
    if "public_docs" not in settings.model_fields_set:  # a laptop: the API docs without signing in
        settings = settings.model_copy(update={"public_docs": True})
    STATE.mkdir(exist_ok=True)
    db = Database(settings.database_url, PoolTuning.of(settings))
    db.create_schema()  # once, here: the worker and the API starting together would race to create it
    seed_dev_users(db, District.load(settings.district_file, settings.policy_file), settings.keys())
    db.dispose()
    env = child_env(settings)
    python = [sys.executable, "-m", "cli"]
    children = [
        _temporal(settings, ui_port, env),
        _spawn("worker", [*python, "worker"], env),
        _spawn("API", [*python, "api"], env),
    ]
    code = 0
    try:
        if _wait_healthy(settings, children, stop):
            click.echo(_banner(settings, ui_port, demo))
        while not stop.is_set():
            if exited := [c for c in children if not c.alive]:
                click.echo(
                    f"closeloop: {exited[0].name} exited with code {exited[0].popen.returncode}; stopping", err=True
                )
                code = 1
                break
            stop.wait(0.5)
    finally:
        deadline = time.monotonic() + SHUTDOWN_SECONDS
        for child, share in zip(reversed(children), (0.35, 0.85, 1.0), strict=False):  # API, worker, Temporal
            child.stop(time.monotonic() + share * (deadline - time.monotonic()))
        click.echo("closeloop stopped.")
    sys.exit(code)


@main.command()
def worker() -> None:
    """Run the worker (workflows and activities) until SIGTERM or Ctrl-C."""
    import worker as worker_process

    worker_process.main()


@main.command()
def api() -> None:
    """Serve the API on Settings api_host:api_port until SIGTERM or Ctrl-C (open requests finish)."""
    import uvicorn

    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
    settings = get_settings()
    uvicorn.run(
        "api.main:create_app",
        factory=True,
        host=settings.api_host,
        port=settings.api_port,
        log_level="warning",
        proxy_headers=False,  # X-Forwarded-* is honoured only from Settings trusted_proxies (api/headers.py)
        timeout_graceful_shutdown=max(1, int(settings.shutdown_grace_seconds)),
    )
