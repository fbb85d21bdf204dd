"""The driver: plays each case through the close loop, one action per round, and keeps its book.

``simulate`` starts the cases in order (a case starts once the previous one has its slot, so reports
arrive in order), at most ``concurrency`` in active play; a case waiting for a deadline or a return
visit gives its slot to the next one. At the end the book is compared with ``GET /stats?by=category``.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import datetime

import httpx
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from domain.vocabulary import LOCAL_TZ, Step
from simulator.books import Book, CaseState, Summary, compare
from simulator.client import Abort, utc_now
from simulator.keys import Keys
from simulator.plans import CaseScript, make_plan
from simulator.steps import CloseLoop

TERMINAL = tuple(step.value for step in Step if step.terminal)


class Driver(CloseLoop):
    """Plays the cases of one simulation and keeps their books."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        keys: Keys,
        seed: int,
        concurrency: int,
        timeout: float,
        on_case_done: Callable[[], None],
    ) -> None:
        super().__init__(http, keys, seed, concurrency, timeout)
        self.admission = asyncio.Semaphore(concurrency)  # cases in active play
        self.books: list[Book] = []
        self.errors: list[str] = []
        self.waiting = 0
        self.tag = uuid.uuid4().hex[:6].upper()
        self.on_case_done = on_case_done

    # --- one case ------------------------------------------------------------------------------

    async def play(self, script: CaseScript) -> None:
        book: Book | None = None
        holding = True
        await self.admission.acquire()

        @asynccontextmanager
        async def away():
            """A long wait: give the slot to the next case (a resumed case does not queue again)."""
            nonlocal holding
            if holding:
                self.admission.release()
                holding = False
            self.waiting += 1
            try:
                yield
            finally:
                self.waiting -= 1

        try:
            script, primary = self.choose_primary(script)
            book = await self.intake(script)
            await self.drive(CaseState(script, book, primary, away))
        except Abort as err:
            self.errors.append(str(err))
        finally:
            if book:
                self.open.pop(book.code, None)
            if holding:
                self.admission.release()
            self.on_case_done()

    def choose_primary(self, script: CaseScript) -> tuple[CaseScript, str | None]:
        """重复件: another citizen reports a problem already being handled (an open case)."""
        if script.outcome != "duplicate":
            return script, None
        candidates = sorted(self.open)
        if not candidates:
            return replace(script, outcome="normal"), None
        code = candidates[int(script.pick * len(candidates))]
        first = self.open[code]
        building = first.address.split("单元")[0][:-1]  # a neighbour of the first reporter
        return replace(
            script,
            scene=first.scene,
            grid=first.grid,
            address=f"{building}{script.index % 6 + 1}单元{script.index % 5 + 1}02室",
            description=f"{first.description}之前已经有人反映过，到现在还没解决，希望尽快处理。",
        ), code

    async def intake(self, script: CaseScript) -> Book:
        ref = f"{script.ref_prefix}{datetime.now(LOCAL_TZ):%Y%m%d}-{self.tag}-{script.index:05d}"
        body = {
            "channel_ref": ref,
            "name": script.name,
            "phone": script.phone,
            "address": script.address,
            "grid": script.grid,
            "description": script.description,
            "photos": list(script.photos),
        }
        response = await self.call("POST", f"/intake/{script.channel}", self.keys.intake, body)
        if response.status_code != 202:
            raise Abort(f"intake {script.channel}: HTTP {response.status_code} {response.text[:200]}")
        self.actions[f"intake:{script.channel}"] += 1
        book = Book(code=response.json()["case_code"], token=response.json()["citizen_token"])
        self.books.append(book)
        await self.until(book.code, lambda detail: True, timeout=self.timeout)  # the workflow has started
        return book

    async def drive(self, case: CaseState) -> None:
        """One action per round, whatever the case's step asks for, until it ends or is left."""
        for _ in range(80):  # a case that keeps being refused stops here
            detail = await self.detail(case.code)
            workflow = detail["workflow"]
            case.book.step = step = workflow["step"]
            if step in TERMINAL:
                return
            if workflow["awaiting"] in ("routing", "merge"):
                await asyncio.sleep(0.2)  # the register/duplicate effect is still running
                continue
            self.observe(case.book, workflow)
            if await self.take_turn(case, workflow, detail["summary"]):
                return
        raise Abort(f"{case.code}: did not settle")


async def simulate(
    http: httpx.AsyncClient,
    cases: int,
    keys: Keys,
    seed: int,
    *,
    concurrency: int = 8,
    progress: Console | None = None,
    timeout: float = 600.0,
) -> Summary:
    """Play ``cases`` complaints through the API at ``http``; compare the book with ``GET /stats``.

    ``progress``: a console to show a progress bar on (None: silent). ``timeout`` bounds every
    wait for asynchronous state (seconds).
    """
    started, clock = utc_now(), time.monotonic()
    bar = None
    if progress is not None:
        bar = Progress(
            TextColumn("[bold]模拟诉求"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[status]}"),
            TimeElapsedColumn(),
            console=progress,
            transient=False,
        )
    task_id = bar.add_task("cases", total=cases, status="") if bar else None
    driver: Driver

    def done() -> None:
        if bar is not None:
            bar.update(task_id, advance=1, status=f"等待时限/回访 {driver.waiting} 件" if driver.waiting else "")

    driver = Driver(http, keys, seed, concurrency, timeout, done)
    scripts = [make_plan(seed, index, cases) for index in range(cases)]
    if bar:
        bar.start()
    try:
        # A case starts after the previous one got its slot: reports arrive in order.
        tasks = []
        for script in scripts:
            tasks.append(asyncio.create_task(driver.play(script)))
            await asyncio.sleep(0)
        await asyncio.gather(*tasks)
    finally:
        if bar:
            bar.stop()
    return await _compare(driver, cases, seed, started, time.monotonic() - clock)


async def _compare(driver: Driver, cases: int, seed: int, started: datetime, seconds: float) -> Summary:
    response = await driver.call(
        "GET", "/stats", driver.keys.supervisor, params={"by": "category", "reported_from": started.isoformat()}
    )
    if response.status_code != 200:
        raise RuntimeError(f"GET /stats: HTTP {response.status_code} {response.text[:200]}")
    lines = compare(driver.books, response.json(), utc_now())
    return Summary(
        cases=cases,
        seed=seed,
        started_at=started,
        seconds=seconds,
        policy_version=driver.policy_version,
        demo=driver.demo,
        lines=lines,
        agree=all(line.agree for line in lines),
        actions=driver.actions,
        rejections=driver.rejections,
        errors=driver.errors,
        notes=driver.notes,
    )
