"""Figure 5 — a timer storm: many cases whose deadlines fall due together, on a stack of its own.

The storm policy puts every rung of the ladder at the deadline (签收超时, 黄灯, 红灯, 催办, 督办;
提级 far later), M minutes after dispatch, with M long enough to register every case first. The
figure is the time from the deadlines until every rung is in the projected timeline of every case.

``restart``: the worker is stopped before the first deadline and started after the last one, so
every timer is due at the same instant when it returns (and every case is replayed into an empty
cache). Otherwise the worker runs throughout and the deadlines spread over the registration time.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

from bench.api_client import Api, ApiProblem, http_client, intake, register
from bench.database import DatabaseKind
from bench.processes import Processes
from bench.servers import Stack, StackConfig

RUNGS = ("sign_overdue", "yellow", "red", "ladder_urge", "ladder_supervise")  # EventKind values of the ladder
FAR = 600  # minutes: 提级 must not fire during the storm (it starts a new clock one level up)


def storm_policy(base: Path, minutes: int, target: Path) -> Path:
    """bench/policy.json with the limit and every rung but 提级 at ``minutes`` after dispatch."""
    policy = json.loads(base.read_text(encoding="utf-8"))
    policy["version"] = f"bench-storm-{minutes}m"
    for clock in policy["levels"].values():
        clock["limit"]["amount"] = minutes
        for rung in ("yellow_before", "urge_after", "supervise_after"):
            clock[rung]["amount"] = 0
        clock["escalate_after"]["amount"] = FAR
    policy["sign_limit"]["amount"] = minutes
    target.write_text(json.dumps(policy, ensure_ascii=False, indent=2), encoding="utf-8")
    return target


async def register_all(api: Api, count: int, clients: int) -> tuple[list[float], list[str]]:
    """File and register ``count`` cases; returns the monotonic instant each registration was confirmed."""
    dispatched, errors, taken = [], [], 0

    async def user() -> None:
        nonlocal taken
        while taken < count:
            taken += 1
            try:
                code, _ = await intake(api, "storm")
                await register(api, code)  # answers once dispatched and projected: the clock runs from here
                dispatched.append(time.monotonic())
            except ApiProblem as err:
                errors.append(str(err))

    await asyncio.gather(*(user() for _ in range(clients)))
    return dispatched, errors


async def wait_for_rungs(stack: Stack, cases: int, since: float, seconds: float) -> dict[str, float | None]:
    """Seconds after ``since`` at which each rung had been recorded for all ``cases`` (None: not within the limit)."""
    done: dict[str, float | None] = dict.fromkeys(RUNGS)
    limit = time.monotonic() + seconds
    while time.monotonic() < limit:
        for rung in RUNGS:
            if done[rung] is None and await asyncio.to_thread(stack.db.count_cases_with_event, rung) >= cases:
                done[rung] = time.monotonic() - since
        if all(v is not None for v in done.values()):
            break
        await asyncio.sleep(0.25)
    return done


async def measure(
    processes: Processes,
    base_policy: Path,
    database: DatabaseKind,
    count: int,
    clients: int,
    minutes: int,
    restart: bool,
) -> dict[str, object]:
    config = StackConfig("storm", base_policy, database)  # the policy path is replaced below, before the stack starts
    stack = Stack(config, processes)
    policy = storm_policy(base_policy, minutes, stack.folder / "storm-policy.json")
    stack.config = StackConfig("storm", policy, database)
    async with stack, http_client(stack.api_url, clients) as http:
        dispatched, errors = await register_all(Api(http), count, clients)
        if not dispatched:
            return {"cases": 0, "errors": len(errors), "first_errors": errors[:5]}
        first, last = min(dispatched) + 60 * minutes, max(dispatched) + 60 * minutes
        late_start = time.monotonic() > first  # registration overran the first deadline
        since = first
        if restart:
            await stack.stop_worker()
            await asyncio.sleep(max(0.0, last - time.monotonic()) + 1.0)  # the deadlines pass while no worker runs
            since = await stack.start_worker()  # every timer is due now
        budget = max(0.0, last - time.monotonic()) + 120.0 + len(dispatched) / 10
        done = await wait_for_rungs(stack, len(dispatched), since, budget)
        return _summary(len(dispatched), minutes, restart, first, last, late_start, done, errors)


def _summary(
    cases: int,
    minutes: int,
    restart: bool,
    first: float,
    last: float,
    late_start: bool,
    done: dict[str, float | None],
    errors: list[str],
) -> dict[str, object]:
    """Live: seconds after the first deadline (and after the last); restart: after the worker polled again."""
    finished = [v for v in done.values() if v is not None]
    all_done = max(finished) if len(finished) == len(RUNGS) else None
    spread = 0.0 if restart else last - first
    return {
        "cases": cases,
        "minutes": minutes,
        "mode": "restart" if restart else "live",
        "measured_from": "worker back" if restart else "first deadline",
        "deadline_spread_seconds": round(last - first, 1),
        "registration_overran_first_deadline": late_start,
        "rungs_per_case": len(RUNGS),
        "rung_seconds": {k: _r(v) for k, v in done.items()},
        "all_rungs_seconds": _r(all_done),
        "all_rungs_seconds_after_last_deadline": _r(all_done - spread) if all_done is not None else None,
        "rungs_per_second": round(len(RUNGS) * cases / all_done, 1) if all_done else None,
        "complete": all_done is not None,
        "errors": len(errors),
        "first_errors": errors[:5],
    }


def _r(value: float | None) -> float | None:
    return round(value, 2) if value is not None else None
