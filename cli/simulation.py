"""``simulate``: play realistic complaints through the running API (see ``simulator``)."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import click
import httpx

import cli
from cli import DEV_KEYS, api_option, main
from cli.reads import get_json


@main.command()
@click.option("--cases", default=100, show_default=True, type=click.IntRange(1, 100_000), help="诉求件数")
@api_option
@click.option("--seed", default=1, show_default=True, help="随机种子（同一种子，同样的诉求与处理）")
@click.option("--concurrency", default=8, show_default=True, type=click.IntRange(1, 200), help="同时办理的案件数")
@click.option(
    "--keys",
    "keys_file",
    default=DEV_KEYS,
    show_default=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="API keys (deploy/dev-keys.json format)",
)
def simulate(cases: int, api: str, seed: int, concurrency: int, keys_file: Path) -> None:
    """Play N realistic complaints through the API, then compare with GET /stats (exit 1 if they differ)."""
    from simulator import Keys, render
    from simulator import simulate as run

    async def go():
        async with httpx.AsyncClient(base_url=api, timeout=httpx.Timeout(60.0, connect=5.0)) as http:
            await get_json(http, "/health", None)
            return await run(http, cases, Keys.dev(keys_file), seed, concurrency=concurrency, progress=cli.console)

    summary = asyncio.run(go())
    render(summary, cli.console)
    sys.exit(0 if summary.agree else 1)
