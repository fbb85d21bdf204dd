"""Figure 3 — intake latency while the worker is busy.

Reports are offered open-loop: each is sent at its scheduled instant whether or not earlier ones
were answered, and its latency counts from that instant (so a stalled server cannot hide its
queue by slowing the sender down). Meanwhile simulated users close cases in the background. The
fixed rate gives p50/p95/p99; then the rate doubles step by step to find the highest one whose
p99 stays within the target.
"""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass, field

import httpx

from bench.api_client import INTAKE_KEY, Api, http_client, intake_body
from bench.closeloop import drive

P99_TARGET_MS = 100.0
FIRST_RATE = 10.0


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


@dataclass
class Offered:
    rate: float
    seconds: float
    latencies_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def p99(self) -> float | None:
        return percentile(self.latencies_ms, 99)

    @property
    def within_target(self) -> bool:
        return not self.errors and self.p99 is not None and self.p99 <= P99_TARGET_MS

    def summary(self) -> dict[str, object]:
        def ms(q: float) -> float | None:
            value = percentile(self.latencies_ms, q)
            return round(value, 1) if value is not None else None

        return {
            "rate": self.rate,
            "seconds": self.seconds,
            "requests": len(self.latencies_ms) + len(self.errors),
            "p50_ms": ms(50),
            "p95_ms": ms(95),
            "p99_ms": ms(99),
            "max_ms": ms(100),
            "errors": len(self.errors),
            "first_errors": self.errors[:3],
        }


async def _probe(http: httpx.AsyncClient, scheduled: float, result: Offered) -> None:
    loop = asyncio.get_running_loop()
    try:
        r = await http.post("/intake/hotline_12345", headers={"X-API-Key": INTAKE_KEY}, json=intake_body("probe"))
    except httpx.HTTPError as err:
        result.errors.append(f"{type(err).__name__}: {err}")
        return
    if r.status_code == 202:
        result.latencies_ms.append((loop.time() - scheduled) * 1000)
    else:
        result.errors.append(f"HTTP {r.status_code} {r.text[:200]}")


async def offer(http: httpx.AsyncClient, rate: float, seconds: float) -> Offered:
    """Send ``rate`` reports per second for ``seconds``, each on its own schedule."""
    loop, result = asyncio.get_running_loop(), Offered(rate, seconds)
    start, probes = loop.time() + 0.05, []
    for i in range(max(1, int(rate * seconds))):
        scheduled = start + i / rate
        await asyncio.sleep(max(0.0, scheduled - loop.time()))
        probes.append(asyncio.create_task(_probe(http, scheduled, result)))
    await asyncio.gather(*probes)
    return result


async def measure(
    api_url: str, rate: float, seconds: float, step_seconds: float, max_rate: float, background_clients: int
) -> dict[str, object]:
    """Fixed rate, then the rate search, all with a closeloop drive running behind them."""
    stop = asyncio.Event()
    async with http_client(api_url, background_clients) as bg_http, http_client(api_url, 500, timeout=30.0) as http:
        background = asyncio.create_task(drive(Api(bg_http), 0, background_clients, tag="busy", stop=stop))
        try:
            await asyncio.sleep(1.0)  # let the background users get going
            fixed = await offer(http, rate, seconds)
            steps, best, step_rate = [], None, FIRST_RATE
            while step_rate <= max_rate:
                step = await offer(http, step_rate, step_seconds)
                steps.append(step.summary())
                if not step.within_target:
                    break
                best, step_rate = step_rate, step_rate * 2
        finally:
            stop.set()
            busy = await background
    return {
        "fixed": fixed.summary(),
        "steps": steps,
        "max_rate_p99_within_target": best,
        "p99_target_ms": P99_TARGET_MS,
        "background": {
            "closed": len(busy.closed),
            "closed_per_second": round(busy.closed_per_second, 2),
            "errors": len(busy.errors),
            "first_errors": busy.errors[:3],
        },
    }
