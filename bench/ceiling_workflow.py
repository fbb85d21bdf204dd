"""The raw-SDK ceiling: a workflow that does nothing but what a closeloop case costs Temporal.

It has the same number of activities, local activities, updates and timers as a closed case (or
the lean variant's 8 activities), and no business logic, database or HTTP: the throughput it
reaches on the same dev server is the most an orchestration of that shape can get.
"""

from __future__ import annotations

import asyncio
import functools
from dataclasses import dataclass
from datetime import timedelta

from temporalio import activity, workflow

CALL = dict(start_to_close_timeout=timedelta(seconds=30))
SHORT = 0.001  # seconds: a timer that fires at once (TimerStarted + TimerFired)
LONG = timedelta(hours=1)  # a case's next deadline: started while waiting, cancelled by the next action


@dataclass(frozen=True)
class CeilingShape:
    activities: int
    local_activities: int
    updates: int
    timers: int  # TimerStarted in all
    timers_fired: int  # of which fire; the others are cancelled by the next update, like a case's deadline waits


@activity.defn
async def touch(n: int) -> int:
    """The cheapest activity there is: what remains is Temporal's and the SDK's cost."""
    return n


def share(total: int, parts: int, index: int) -> int:
    """Part ``index`` of ``total`` split as evenly as possible into ``parts``."""
    return total * (index + 1) // parts - total * index // parts


@workflow.defn
class CeilingWorkflow:
    """Work is spread like a case's: a share at the start and a share with each human action;
    between actions it waits for the next one with a deadline timer, as a case does."""

    def __init__(self) -> None:
        self.shape: CeilingShape | None = None
        self.handled = 0

    @workflow.run
    async def run(self, shape: CeilingShape) -> int:
        self.shape = shape
        await self._work(0)
        for _ in range(min(shape.timers_fired, shape.timers)):
            await asyncio.sleep(SHORT)
        waits = max(0, shape.timers - shape.timers_fired)
        while not self._finished():
            moved = functools.partial(self._moved_since, self.handled)
            if waits:
                waits -= 1
                try:
                    await workflow.wait_condition(moved, timeout=LONG)
                except TimeoutError:
                    pass
            else:
                await workflow.wait_condition(moved)
        return self.handled

    def _moved_since(self, seen: int) -> bool:
        return self.handled > seen or self._finished()

    def _finished(self) -> bool:
        assert self.shape is not None
        return self.handled >= self.shape.updates and workflow.all_handlers_finished()

    @workflow.update
    async def act(self, n: int) -> int:
        await workflow.wait_condition(lambda: self.shape is not None)
        self.handled += 1
        await self._work(self.handled)
        return n

    async def _work(self, index: int) -> None:
        shape = self.shape
        assert shape is not None
        parts = shape.updates + 1
        for n in range(share(shape.local_activities, parts, index)):
            await workflow.execute_local_activity(touch, n, **CALL)
        for n in range(share(shape.activities, parts, index)):
            await workflow.execute_activity(touch, n, **CALL)
