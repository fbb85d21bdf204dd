"""The benchmark's command line: sizes, rates, which figures to run and where to write results."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

from bench.database import DatabaseKind

FIGURES = ("closeloop", "ceiling", "latency", "at_rest", "storm")
BENCH = Path(__file__).resolve().parent
DEFAULT_JSON = BENCH / "results" / "latest.json"


@dataclass(frozen=True)
class Options:
    cases: int = 500  # closeloop and ceiling: workflows driven to the end
    clients: int = 50  # concurrent simulated users (HTTP) / concurrent SDK clients (ceiling)
    rate: float = 20.0  # intake latency: offered requests per second
    seconds: float = 60.0  # intake latency: how long the fixed rate is offered
    step_seconds: float = 10.0  # intake latency: length of each step of the rate search
    max_rate: float = 640.0  # intake latency: the rate search stops here
    open_cases: int = 20_000  # at rest: cases left open on their deadline timers
    storm: int = 5_000  # timer storm: cases whose deadlines fall due together
    storm_minutes: int | None = None  # timer storm: the policy's limit (None: from the storm size)
    storm_restart: bool = False  # timer storm: hold the worker back across the deadlines
    calls: int = 5  # at rest: calls per read whose median is reported
    only: tuple[str, ...] = FIGURES
    database: DatabaseKind = "sqlite"
    json_path: Path = DEFAULT_JSON

    @property
    def storm_limit_minutes(self) -> int:
        """Long enough to register every storm case before the first deadline (~10 cases/s assumed)."""
        return self.storm_minutes or max(1, -(-self.storm // 600))


QUICK = dict(
    cases=20, clients=10, rate=10.0, seconds=5.0, step_seconds=3.0, max_rate=80.0, open_cases=200, storm=100, calls=3
)


def parse(argv: list[str] | None = None) -> Options:
    p = argparse.ArgumentParser(
        prog="python -m bench", description="closeloop benchmarks: five figures on a stack of their own"
    )
    p.add_argument("--quick", action="store_true", help="small sizes for a smoke run (explicit options still win)")
    p.add_argument("--cases", type=int, help="closeloop/ceiling: workflows per run (default 500)")
    p.add_argument("--clients", type=int, help="concurrent clients (default 50)")
    p.add_argument("--rate", type=float, help="intake latency: offered requests/s (default 20)")
    p.add_argument("--seconds", type=float, help="intake latency: seconds at --rate (default 60)")
    p.add_argument(
        "--step-seconds", type=float, help="intake latency: seconds per step of the rate search (default 10)"
    )
    p.add_argument("--max-rate", type=float, help="intake latency: highest rate tried (default 640)")
    p.add_argument("--open-cases", type=int, help="at rest: open cases created (default 20000)")
    p.add_argument("--storm", type=int, help="timer storm: deadlines falling due together (default 5000)")
    p.add_argument("--storm-minutes", type=int, help="timer storm: time limit in minutes (default from --storm)")
    p.add_argument("--storm-restart", action="store_true", help="timer storm: stop the worker across the deadlines")
    p.add_argument("--calls", type=int, help="at rest: calls per read, median reported (default 5)")
    p.add_argument("--only", help=f"comma-separated figures: {','.join(FIGURES)}")
    p.add_argument("--database", choices=("sqlite", "postgresql"), help="projection database (default sqlite)")
    p.add_argument(
        "--json", dest="json_path", type=Path, help=f"results file (default {DEFAULT_JSON.relative_to(BENCH.parent)})"
    )
    args = p.parse_args(argv)
    values: dict[str, object] = dict(QUICK) if args.quick else {}
    for name in (
        "cases",
        "clients",
        "rate",
        "seconds",
        "step_seconds",
        "max_rate",
        "open_cases",
        "storm",
        "storm_minutes",
        "calls",
        "database",
        "json_path",
    ):
        if getattr(args, name) is not None:
            values[name] = getattr(args, name)
    if args.storm_restart:
        values["storm_restart"] = True
    if args.only:
        chosen = tuple(f.strip().replace("-", "_") for f in args.only.split(",") if f.strip())
        unknown = [f for f in chosen if f not in FIGURES]
        if unknown:
            p.error(f"unknown figure(s) {', '.join(unknown)}; choose from {', '.join(FIGURES)}")
        values["only"] = chosen
    options = Options(**values)  # type: ignore[arg-type]
    if options.cases < 1 or options.clients < 1 or options.rate <= 0:
        p.error("--cases, --clients and --rate must be positive")
    return options
