"""Figure 4 — many open cases at rest: each filed and registered, so it sits on its deadline timers
(10 hours under bench/policy.json). Then what the processes hold in memory, what the projection
costs on disk per case, and how long the overdue list and the statistics take to answer."""

from __future__ import annotations

import asyncio
import statistics
import time

from bench.api_client import SUPERVISOR_KEY, Api, ApiProblem, intake, register
from bench.servers import Stack

WEB_COOKIE = "closeloop_key"  # api/web/session.py: the web pages read the API key from this cookie
READS = {
    "overdue_list": ("/cases", {"overdue": "true"}),
    "stats_by_unit": ("/stats", {"by": "unit"}),
    "ui_stats": ("/ui/stats", None),
}


async def open_cases(api: Api, count: int, clients: int) -> tuple[int, list[str]]:
    """File and register ``count`` cases with ``clients`` users; returns (opened, errors)."""
    opened, errors, taken = 0, [], 0

    async def user() -> None:
        nonlocal opened, taken
        while taken < count:
            taken += 1
            try:
                code, _ = await intake(api, "rest")
                await register(api, code)
                opened += 1
            except ApiProblem as err:
                errors.append(str(err))

    await asyncio.gather(*(user() for _ in range(clients)))
    return opened, errors


async def time_read(api: Api, path: str, params: dict[str, str] | None, calls: int) -> dict[str, object]:
    """Median wall time of ``calls`` GETs as the supervisor (header for the API, cookie for pages)."""
    cookies = {WEB_COOKIE: SUPERVISOR_KEY} if path.startswith("/ui/") else None
    times, status, total = [], None, None
    for _ in range(calls):
        began = time.perf_counter()
        r = await api.get(path, SUPERVISOR_KEY, params=params, cookies=cookies)
        times.append((time.perf_counter() - began) * 1000)
        status = r.status_code
        if r.status_code == 200 and r.headers.get("content-type", "").startswith("application/json"):
            total = r.json().get("total")
    return {
        "path": path,
        "params": params,
        "status": status,
        "median_ms": round(statistics.median(times), 1),
        "max_ms": round(max(times), 1),
        "calls": calls,
        **({"total": total} if isinstance(total, int) else {}),
    }


def mib(value: int | None) -> float | None:
    return round(value / 2**20, 1) if value is not None else None


async def measure(stack: Stack, api: Api, count: int, clients: int, calls: int) -> dict[str, object]:
    size_before = await asyncio.to_thread(stack.db.size_bytes)
    began = time.monotonic()
    opened, errors = await open_cases(api, count, clients)
    seconds = time.monotonic() - began
    waiting = int(await asyncio.to_thread(stack.db.scalar, "SELECT COUNT(*) FROM cases WHERE step = 'dispatch'") or 0)
    size_after = await asyncio.to_thread(stack.db.size_bytes)
    reads = {name: await time_read(api, path, params, calls) for name, (path, params) in READS.items()}
    rss = stack.rss()
    return {
        "opened": opened,
        "seconds_to_open": round(seconds, 1),
        "opened_per_second": round(opened / seconds, 2) if seconds else None,
        "cases_waiting_in_dispatch": waiting,
        "errors": len(errors),
        "first_errors": errors[:5],
        "rss_mib": {name: mib(value) for name, value in rss.items()},
        "db_bytes_per_case": round((size_after - size_before) / opened) if opened else None,
        "db_mib_total": mib(size_after),
        "reads": reads,
    }
