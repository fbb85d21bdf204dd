"""Faults on the real stack (processes, a Temporal of their own): nothing lost, nothing doubled.

- The worker is SIGKILLed with 120 cases in the middle of 立案: every action is confirmed after
  the restart (retried with its key), each case is dispatched once, has one task, and the
  projection converges to the workflow's state.
- PostgreSQL goes away (its connections refused, through a proxy the test stops): intakes answer
  503 in the error shape with Retry-After, /health says which part is down; once it is back the
  same reports are accepted once each.
- The Temporal server is SIGKILLed and stays down while every case's deadline passes: once it is
  back, every rung of the ladder is recorded once for every case.
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections import Counter

import httpx
from sqlalchemy import create_engine, text

from bench.storm import storm_policy  # every rung but 提级 at the deadline
from domain.district import DEMO_POLICY
from tests.live_stack import fresh_database, live_stack
from tests.support import eventually

CASES = 120


async def intake(http: httpx.AsyncClient, ref: str) -> httpx.Response:
    return await http.post(
        "/intake/hotline_12345",
        headers={"X-API-Key": "k-intake"},
        timeout=60,
        json={
            "channel_ref": ref,
            "name": "王五",
            "phone": "13700001111",
            "grid": "G-LS-XL-01",
            "description": "小区门口车辆违规停放，影响通行",
        },
    )


async def until_confirmed(http: httpx.AsyncClient, path: str, api_key: str, body: dict, key: str) -> httpx.Response:
    """The same action, with the same key, until it is confirmed (a 503 means: not known yet)."""
    deadline = time.monotonic() + 120
    while True:
        try:
            r = await http.post(path, json=body, headers={"X-API-Key": api_key, "Idempotency-Key": key}, timeout=60)
            if r.status_code != 503 and not (r.status_code == 409 and r.json()["error"]["code"] == "Queued"):
                return r
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, f"{path} not confirmed within 120 s"
        await asyncio.sleep(0.5)


def projection(url: str) -> tuple[dict[str, str], Counter, Counter]:
    """Per case: projected step, tasks, timeline rows."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            steps = dict(conn.execute(text("SELECT case_code, step FROM cases")).all())
            tasks = Counter(code for (code,) in conn.execute(text("SELECT case_code FROM tasks")).all())
            rows = Counter(code for (code,) in conn.execute(text("SELECT case_code FROM timeline")).all())
        return steps, tasks, rows
    finally:
        engine.dispose()


async def test_worker_sigkill_with_cases_in_flight_loses_and_doubles_nothing(tmp_path):
    with fresh_database("sqlite", tmp_path) as url, live_stack(tmp_path, url, ACTION_TIMEOUT_SECONDS="3") as stack:
        async with httpx.AsyncClient(
            base_url=stack.url, trust_env=False, limits=httpx.Limits(max_connections=300)
        ) as http:
            codes = [
                r.json()["case_code"] for r in await asyncio.gather(*(intake(http, f"kill-{i}") for i in range(CASES)))
            ]
            keys = {code: uuid.uuid4().hex for code in codes}
            actions = [
                asyncio.create_task(
                    until_confirmed(http, f"/cases/{code}/register", "k-supervisor", {"category": "JM-002"}, keys[code])
                )
                for code in codes
            ]
            await eventually(lambda: sum(a.done() for a in actions) >= 10, timeout=60, interval=0.05)
            in_flight = sum(not a.done() for a in actions)
            stack.kill("worker")
            stack.start("worker")
            answers = await asyncio.gather(*actions)
            assert in_flight >= 100, f"only {in_flight} cases were in flight when the worker was killed"
            assert all(r.status_code == 200 and r.json()["step"] == "dispatch" for r in answers), Counter(
                r.status_code for r in answers
            )

            lengths = {}
            for code in codes:
                r = await http.get(f"/cases/{code}", headers={"X-API-Key": "k-supervisor"})
                timeline = r.json()["workflow"]["timeline"]
                kinds = Counter(e["kind"] for e in timeline)
                assert kinds["accepted"] == 1 and kinds["dispatched"] == 1, (code, kinds)
                lengths[code] = len(timeline)

        def converged():  # every case: the workflow's step, one task, each timeline entry once
            steps, tasks, rows = projection(url)
            return all(
                steps.get(code) == "dispatch" and tasks[code] == 1 and rows[code] == lengths[code] for code in codes
            )

        assert await eventually(converged, timeout=60)


class Proxy:
    """A TCP proxy to PostgreSQL that the test can take away (connections refused, open ones cut).
    It runs on a thread and loop of its own: the stack's helpers block while they wait."""

    def __init__(self, port: int, upstream: tuple[str, int] = ("127.0.0.1", 5432)) -> None:
        self.port, self.upstream = port, upstream
        self.loop = asyncio.new_event_loop()
        threading.Thread(target=self.loop.run_forever, daemon=True).start()
        self.server: asyncio.base_events.Server | None = None
        self.writers: set[asyncio.StreamWriter] = set()

    def start(self) -> None:
        self.server = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(self._serve, "127.0.0.1", self.port), self.loop
        ).result(10)

    def stop(self) -> None:
        async def close() -> None:
            assert self.server
            self.server.close()
            for writer in list(self.writers):
                writer.transport.abort()
            await self.server.wait_closed()

        asyncio.run_coroutine_threadsafe(close(), self.loop).result(10)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            writer.transport.abort()
            return
        self.writers |= {writer, up_writer}

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            try:
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            except (ConnectionError, asyncio.CancelledError):
                pass
            finally:
                sink.transport.abort()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        self.writers -= {writer, up_writer}


async def test_postgres_away_answers_503_in_shape_and_loses_no_report(tmp_path):
    from tests.live_stack import free_port

    proxy = Proxy(free_port())
    proxy.start()
    try:
        with fresh_database("postgresql", tmp_path) as direct:
            via_proxy = direct.replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}")
            with live_stack(tmp_path, via_proxy, DB_POOL_TIMEOUT="2") as stack:
                async with httpx.AsyncClient(base_url=stack.url, trust_env=False) as http:
                    before = [await intake(http, f"pg-{i}") for i in range(10)]
                    assert {r.status_code for r in before} == {202}

                    proxy.stop()
                    during = await asyncio.gather(*(intake(http, f"pg-away-{i}") for i in range(30)))
                    assert {r.status_code for r in during} == {503}, Counter(r.status_code for r in during)
                    assert all(
                        r.json()["error"]["code"] in ("DatabaseUnavailable", "DatabaseBusy")
                        and r.headers["Retry-After"]
                        for r in during
                    )
                    health = await http.get("/health", timeout=5)
                    assert (
                        health.status_code == 503
                        and health.json()["database"] != "ok"
                        and health.json()["temporal"] == "ok"
                    )

                    proxy.start()
                    again = await asyncio.gather(*(until_accepted(http, f"pg-away-{i}") for i in range(30)))
                    assert {r.status_code for r in again} == {202}
                engine = create_engine(direct)
                try:

                    def reports() -> tuple[Counter, int]:
                        with engine.connect() as conn:
                            refs = Counter(ref for (ref,) in conn.execute(text("SELECT channel_ref FROM report")).all())
                            return refs, conn.execute(
                                text("SELECT COUNT(*) FROM report WHERE workflow_started")
                            ).scalar()

                    refs, _ = reports()
                    assert len(refs) == 40 and set(refs.values()) == {1}  # each report once
                    assert await eventually(lambda: reports()[1] == 40, timeout=60)  # and every one started
                finally:
                    engine.dispose()
    finally:
        proxy.close()


async def until_accepted(http: httpx.AsyncClient, ref: str) -> httpx.Response:
    deadline = time.monotonic() + 60
    while True:
        r = await intake(http, ref)
        if r.status_code == 202 or time.monotonic() > deadline:
            return r
        await asyncio.sleep(0.5)


async def test_temporal_sigkill_while_deadlines_fall_due_records_every_rung_once(tmp_path):
    rungs = ("sign_overdue", "yellow", "red", "ladder_urge", "ladder_supervise")
    with (
        fresh_database("sqlite", tmp_path) as url,
        live_stack(
            tmp_path, url, POLICY_FILE=str(storm_policy(DEMO_POLICY, 1, tmp_path / "storm-policy.json"))
        ) as stack,
    ):
        async with httpx.AsyncClient(base_url=stack.url, trust_env=False) as http:
            codes = [
                r.json()["case_code"] for r in await asyncio.gather(*(intake(http, f"storm-{i}") for i in range(20)))
            ]
            await asyncio.gather(
                *(
                    until_confirmed(
                        http, f"/cases/{code}/register", "k-supervisor", {"category": "JM-002"}, uuid.uuid4().hex
                    )
                    for code in codes
                )
            )
            due = time.monotonic() + 60  # the policy's one minute, from the last registration at the latest
            stack.kill("temporal")
            await eventually(
                lambda: time.monotonic() > due + 5, timeout=90, interval=1
            )  # the deadlines pass while it is down
            stack.start("temporal")

        def every_rung_once():
            engine = create_engine(url)
            try:
                with engine.connect() as conn:
                    found = Counter(conn.execute(text("SELECT case_code, kind FROM timeline")).all())
            finally:
                engine.dispose()
            assert all(found[(code, rung)] <= 1 for code in codes for rung in rungs), found  # never doubled
            return all(found[(code, rung)] == 1 for code in codes for rung in rungs)

        assert await eventually(every_rung_once, timeout=120, interval=1)
