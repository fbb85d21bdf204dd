"""The whole benchmark: one stack for figures 1–4 (in the order that lets each use the last), one
for the timer storm; every process stopped at the end whatever happens."""

from __future__ import annotations

import os
import platform
import subprocess
from datetime import UTC, datetime
from typing import Any

from rich.console import Console

from bench import at_rest, ceiling, latency, storm
from bench.api_client import Api, http_client
from bench.closeloop import LoopRun, drive
from bench.histories import Shape, sample_shape
from bench.options import BENCH, Options
from bench.processes import REPO, Processes
from bench.servers import Stack, StackConfig

POLICY = BENCH / "policy.json"
RATIO_TARGET = 0.8
ACTIVITIES_TARGET = 10
MAIN_FIGURES = ("closeloop", "ceiling", "latency", "at_rest")


def _git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True).stdout.strip()


def meta(options: Options) -> dict[str, Any]:
    """Where and how the figures were taken (the tree is usually being edited: say so)."""
    return {
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": _git("rev-parse", "--short", "HEAD") or None,
        "dirty_tree": bool(_git("status", "--porcelain")),
        "cpus": os.cpu_count(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "database": options.database,
        "policy": str(POLICY.relative_to(REPO)),
        "options": {
            k: (str(v) if not isinstance(v, (int, float, str, tuple, type(None))) else v)
            for k, v in vars(options).items()
        },
    }


async def closeloop_figures(
    stack: Stack, api: Api, options: Options, console: Console, results: dict[str, Any]
) -> Shape:
    """Warm up, then (if chosen) the measured drive; returns a closed case's shape for the ceiling."""
    console.print("[dim]warm-up: a few cases through the close loop[/]")
    warm = await drive(api, max(2, min(10, options.clients)), options.clients, tag="warm")
    if warm.errors:
        console.print(f"[red]warm-up errors: {warm.errors[:3]}[/]")
    loop: LoopRun = warm
    if "closeloop" in options.only:
        console.print(f"[bold]close loop[/]: {options.cases} cases, {options.clients} clients")
        api.retried.clear()  # count the measured drive's retries only
        loop = await drive(api, options.cases, options.clients)
    shape = await sample_shape(stack.client, loop.closed or warm.closed)
    if "closeloop" in options.only:
        results["closeloop"] = {**loop.summary(), "per_closed_case": shape.as_dict(), "retried": dict(api.retried)}
    return shape


async def main_stack(processes: Processes, options: Options, console: Console, results: dict[str, Any]) -> None:
    async with (
        Stack(StackConfig("main", POLICY, options.database), processes) as stack,
        http_client(stack.api_url, options.clients) as http,
    ):
        console.print(
            f"[dim]stack up: Temporal {stack.temporal_address}, API {stack.api_url}, db {options.database}[/]"
        )
        api = Api(http)
        if "closeloop" in options.only or "ceiling" in options.only:
            shape = await closeloop_figures(stack, api, options, console, results)
        if "ceiling" in options.only:
            console.print(f"[bold]ceiling[/]: {options.cases} raw workflows per shape, {options.clients} clients")
            runs = await ceiling.measure(stack, shape, options.cases, options.clients)
            results["ceiling"] = {label: run.summary() for label, run in runs.items()}
            if "closeloop" in results:
                lean = runs["lean_8"].per_second
                ratio = results["closeloop"]["closed_per_second"] / lean if lean else None
                results["closeloop"]["ratio_to_lean_ceiling"] = round(ratio, 3) if ratio is not None else None
        if "latency" in options.only:
            console.print(f"[bold]intake latency[/]: {options.rate}/s for {options.seconds}s, then the rate search")
            results["latency"] = await latency.measure(
                stack.api_url,
                options.rate,
                options.seconds,
                options.step_seconds,
                options.max_rate,
                max(1, options.clients // 2),
            )
        if "at_rest" in options.only:
            console.print(f"[bold]open cases at rest[/]: {options.open_cases} cases")
            results["at_rest"] = await at_rest.measure(stack, api, options.open_cases, options.clients, options.calls)


async def run(options: Options, console: Console) -> dict[str, Any]:
    results: dict[str, Any] = {"meta": meta(options)}
    processes = Processes()
    try:
        if any(f in options.only for f in MAIN_FIGURES):
            await main_stack(processes, options, console, results)
        if "storm" in options.only:
            minutes = options.storm_limit_minutes
            console.print(f"[bold]timer storm[/]: {options.storm} cases, deadlines {minutes} min after dispatch")
            results["storm"] = await storm.measure(
                processes, POLICY, options.database, options.storm, options.clients, minutes, options.storm_restart
            )
    finally:
        processes.stop_all(grace=10.0)  # anything a failed stop left behind
    results["meta"]["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    results["targets"] = {
        "closeloop_to_lean_ceiling": RATIO_TARGET,
        "activities_per_case": ACTIVITIES_TARGET,
        "intake_p99_ms": latency.P99_TARGET_MS,
    }
    return results
