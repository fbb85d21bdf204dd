"""A morning rush on the real stack (worker and API as processes, real Temporal, SQLite and
PostgreSQL): 200 intakes at once, then 200 actions at once across 50 cases.

Every answer is 2xx or a documented 409/503; an action that answered 503 is retried with its key
until it is confirmed; every confirmed action is in the workflow's timeline exactly once and in
the projection exactly once; and /health answers within 2 s all the while.
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections import Counter

import httpx
import pytest
from sqlalchemy import create_engine, text

from tests.live_stack import fresh_database, live_stack
from tests.support import eventually

INTAKES, CASES, NOTES_PER_CASE = 200, 50, 4
HEALTH_LIMIT = 2.0


class HealthWatch(threading.Thread):
    """Polls /health during a burst from a thread of its own (the test's event loop is busy
    sending the burst) and keeps every answer's status and latency."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url, self.answers = url, []
        self._finished = threading.Event()

    def run(self) -> None:
        with httpx.Client(base_url=self.url, trust_env=False) as http:
            while not self._finished.is_set():
                began = time.monotonic()
                try:
                    status = http.get("/health", timeout=HEALTH_LIMIT).status_code
                except httpx.TimeoutException:
                    status = "timeout"
                self.answers.append((status, time.monotonic() - began))
                self._finished.wait(0.2)

    def stop(self) -> None:
        self._finished.set()
        self.join()


async def post(http: httpx.AsyncClient, path: str, api_key: str, body: dict, key: str | None = None) -> httpx.Response:
    """POST, sent again if no answer came (e.g. a keep-alive connection the server was closing):
    safe, because an action keeps its Idempotency-Key and a report its channel_ref."""
    headers = {"X-API-Key": api_key, "Idempotency-Key": key or uuid.uuid4().hex}
    for attempt in range(3):
        try:
            return await http.post(path, json=body, headers=headers, timeout=60)
        except httpx.TransportError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


async def confirmed(http: httpx.AsyncClient, path: str, api_key: str, body: dict) -> tuple[list[int], httpx.Response]:
    """Send an action; on 503 repeat it with the same key. All statuses seen and the last answer."""
    key, statuses = uuid.uuid4().hex, []
    deadline = time.monotonic() + 90
    while True:
        r = await post(http, path, api_key, body, key)
        statuses.append(r.status_code)
        if r.status_code != 503 or time.monotonic() > deadline:
            return statuses, r
        assert r.json()["error"]["code"] in (
            "ActionUnconfirmed",
            "WorkflowUnavailable",
            "DatabaseBusy",
            "DatabaseUnavailable",
        )
        await asyncio.sleep(float(r.headers.get("Retry-After", "1")))


async def intake_burst(http: httpx.AsyncClient) -> list[str]:
    async def one(i: int) -> httpx.Response:
        report = {
            "channel_ref": f"rush-{i}-{uuid.uuid4().hex[:6]}",
            "name": "王五",
            "phone": "13700001111",
            "grid": "G-LS-XL-01",
            "description": f"早高峰第{i}件：小区门口车辆违规停放，影响通行",
        }
        return await post(http, "/intake/hotline_12345", "k-intake", report)

    answers = await asyncio.gather(*(one(i) for i in range(INTAKES)))
    assert {r.status_code for r in answers} <= {202, 503}, Counter(r.status_code for r in answers)
    codes = [r.json()["case_code"] for r in answers if r.status_code == 202]
    assert len(codes) == len(set(codes)) >= INTAKES * 0.95
    return codes


async def handled(http: httpx.AsyncClient, code: str) -> None:
    """Register to 交警 (D-JJ) and sign for it, waiting while the case is still being started."""

    key = uuid.uuid4().hex  # one 立案, however often it is retried

    async def registered():
        r = await post(http, f"/cases/{code}/register", "k-supervisor", {"category": "JM-002"}, key)
        assert r.status_code in (200, 409, 503), r.text
        return r.status_code == 200 or (r.status_code == 409 and r.json()["error"]["code"] != "Queued")

    await eventually(registered, timeout=90, interval=0.5)
    statuses, r = await confirmed(http, f"/cases/{code}/sign", "k-D-JJ", {})
    assert r.status_code == 200, r.text


def projected(database_url: str, codes: list[str]) -> Counter:
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT note FROM timeline WHERE kind = 'progress'")).all()
        return Counter(note for (note,) in rows if note.split("#")[0] in codes)
    finally:
        engine.dispose()


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
async def test_a_morning_rush_wedges_nothing_and_loses_no_action(kind, tmp_path):
    with fresh_database(kind, tmp_path) as url, live_stack(tmp_path, url) as stack:
        async with httpx.AsyncClient(
            base_url=stack.url, trust_env=False, limits=httpx.Limits(max_connections=500)
        ) as http:
            watch = HealthWatch(stack.url)
            watch.start()
            try:
                codes = await intake_burst(http)
                cases = codes[:CASES]
                await asyncio.gather(*(handled(http, code) for code in cases))
                notes = [f"{code}#{n}" for code in cases for n in range(NOTES_PER_CASE)]
                results = await asyncio.gather(
                    *(
                        confirmed(http, f"/cases/{note.split('#')[0]}/progress", "k-D-JJ", {"note": note})
                        for note in notes
                    )
                )
            finally:
                watch.stop()

        every_status = Counter(s for statuses, _ in results for s in statuses)
        assert set(every_status) <= {200, 503}, every_status
        assert all(r.status_code == 200 for _, r in results), every_status
        slow = [(status, round(took, 2)) for status, took in watch.answers if status != 200 or took > HEALTH_LIMIT]
        assert watch.answers and not slow, (slow, len(watch.answers))

        async with httpx.AsyncClient(base_url=stack.url, trust_env=False) as http:
            for code in cases:
                r = await http.get(f"/cases/{code}", headers={"X-API-Key": "k-supervisor"})
                timeline = Counter(e["note"] for e in r.json()["workflow"]["timeline"] if e["kind"] == "progress")
                assert timeline == Counter({f"{code}#{n}": 1 for n in range(NOTES_PER_CASE)}), timeline
        assert await eventually(lambda: projected(url, cases) == Counter({note: 1 for note in notes}), timeout=60)
        assert stack.stop("api") < 15 and stack.stop("worker") < 15  # SIGTERM: both stop cleanly
