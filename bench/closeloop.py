"""Figure 2 — complaints driven through all six steps over HTTP by concurrent simulated users.

Each user takes the next case and plays every role in turn: the hotline files it, the center
registers it, 交警大队 signs for it and reports it done, the grid verifier passes it, the citizen
rates it and answers the return visit (due at once under bench/policy.json), and it is closed.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from dataclasses import dataclass, field

from bench.api_client import UNIT_KEY, VERIFIER_KEY, Api, ApiProblem, intake, register

SATISFIED = "satisfied"


@dataclass
class LoopRun:
    """What one closeloop drive produced."""

    cases: int
    seconds: float = 0.0
    closed: list[str] = field(default_factory=list)
    case_seconds: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def closed_per_second(self) -> float:
        return len(self.closed) / self.seconds if self.seconds else 0.0

    def summary(self) -> dict[str, object]:
        times = sorted(self.case_seconds)
        return {
            "cases": self.cases,
            "closed": len(self.closed),
            "seconds": round(self.seconds, 2),
            "closed_per_second": round(self.closed_per_second, 2),
            "case_seconds_p50": round(statistics.median(times), 3) if times else None,
            "case_seconds_max": round(times[-1], 3) if times else None,
            "errors": len(self.errors),
            "first_errors": self.errors[:5],
        }


async def wait_for_visit(api: Api, code: str, token: str, seconds: float = 120.0) -> None:
    """Poll the citizen's progress page until the return visit is due (polling with a deadline)."""
    limit, pause = time.monotonic() + seconds, 0.05
    while True:
        r = await api.get(f"/citizen/cases/{code}", params={"token": token})
        if r.status_code != 200:
            raise ApiProblem(f"GET /citizen/cases/{code}: HTTP {r.status_code} {r.text[:300]}")
        if r.json().get("awaiting") == "visit":
            return
        if time.monotonic() > limit:
            raise ApiProblem(
                f"{code}: return visit not due within {seconds:.0f}s (awaiting {r.json().get('awaiting')})"
            )
        await asyncio.sleep(pause)
        pause = min(pause * 1.5, 0.5)


async def close_one(api: Api, tag: str) -> str:
    """Drive one complaint from intake to 结案归档; returns its case code."""
    code, token = await intake(api, tag)
    await register(api, code)
    await api.ok(f"/cases/{code}/sign", UNIT_KEY, {"note": "已签收"})
    await api.ok(f"/cases/{code}/complete", UNIT_KEY, {"result": "已联系车主挪车，消防通道已畅通"})
    await api.ok(f"/cases/{code}/verify", VERIFIER_KEY, {"passed": True, "note": "现场核实已整改到位"})
    await api.ok(f"/citizen/cases/{code}/evaluation", None, {"token": token, "verdict": SATISFIED})
    await wait_for_visit(api, code, token)
    ack = await api.ok(f"/citizen/cases/{code}/visit", None, {"token": token, "verdict": SATISFIED})
    if ack.get("step") != "closed":
        raise ApiProblem(f"{code}: after the return visit the case is in step {ack.get('step')}, not closed")
    return code


async def drive(api: Api, cases: int, clients: int, tag: str = "loop", stop: asyncio.Event | None = None) -> LoopRun:
    """``clients`` users close ``cases`` complaints between them (or keep going until ``stop``)."""
    run = LoopRun(cases)
    taken = 0

    async def user() -> None:
        nonlocal taken
        while (stop is None and taken < cases) or (stop is not None and not stop.is_set()):
            taken += 1
            began = time.monotonic()
            try:
                run.closed.append(await close_one(api, tag))
                run.case_seconds.append(time.monotonic() - began)
            except ApiProblem as err:
                run.errors.append(str(err))

    began = time.monotonic()
    await asyncio.gather(*(user() for _ in range(clients)))
    run.seconds = time.monotonic() - began
    run.cases = taken
    return run
