"""Figure 1 — the raw-SDK ceiling: workflows of a closed case's shape (and a lean 8-activity
variant) on the same dev server, driven by the same number of concurrent clients → workflows/s."""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import asdict, dataclass

from temporalio.client import Client

from bench.ceiling_workflow import CeilingShape, CeilingWorkflow, share
from bench.histories import Shape, shape_of
from bench.processes import PYTHON
from bench.servers import Stack

LEAN_ACTIVITIES = 8
ROUNDS = 4


@dataclass
class CeilingRun:
    label: str
    shape: CeilingShape
    workflows: int
    seconds: float
    errors: list[str]
    done: list[str]
    measured: Shape | None = None  # one of its histories, to check it has the shape asked for

    @property
    def per_second(self) -> float:
        return (self.workflows - len(self.errors)) / self.seconds if self.seconds else 0.0

    def summary(self) -> dict[str, object]:
        return {
            "shape": asdict(self.shape),
            "workflows": self.workflows,
            "seconds": round(self.seconds, 2),
            "workflows_per_second": round(self.per_second, 2),
            "errors": len(self.errors),
            "first_errors": self.errors[:5],
            "history_of_one": self.measured.as_dict() if self.measured else None,
        }


def shapes_from(case: Shape) -> dict[str, CeilingShape]:
    """The case's own shape (rounded medians) and the lean variant: 8 activities, the same updates,
    no local activity and no timer."""
    updates = round(case.updates)
    own = CeilingShape(
        round(case.activities), round(case.local_activities), updates, round(case.timers), round(case.timers_fired)
    )
    return {"case_shape": own, "lean_8": CeilingShape(LEAN_ACTIVITIES, 0, updates, 0, 0)}


async def one(client: Client, task_queue: str, shape: CeilingShape) -> str:
    handle = await client.start_workflow(
        CeilingWorkflow.run, shape, id=f"ceiling-{uuid.uuid4().hex}", task_queue=task_queue
    )
    for n in range(shape.updates):
        await handle.execute_update(CeilingWorkflow.act, n)
    await handle.result()
    return handle.id


async def drive(
    client: Client, task_queue: str, label: str, shape: CeilingShape, workflows: int, clients: int
) -> CeilingRun:
    errors: list[str] = []
    done: list[str] = []
    taken = 0

    async def user() -> None:
        nonlocal taken
        while taken < workflows:
            taken += 1
            try:
                done.append(await one(client, task_queue, shape))
            except Exception as err:  # a failed raw workflow is reported, the run goes on
                errors.append(f"{type(err).__name__}: {err}")

    began = time.monotonic()
    await asyncio.gather(*(user() for _ in range(clients)))
    return CeilingRun(label, shape, workflows, time.monotonic() - began, errors, done)


def merge(runs: list[CeilingRun]) -> CeilingRun:
    first = runs[0]
    return CeilingRun(
        first.label,
        first.shape,
        sum(r.workflows for r in runs),
        sum(r.seconds for r in runs),
        [e for r in runs for e in r.errors],
        [d for r in runs for d in r.done],
    )


async def measure(stack: Stack, case: Shape, workflows: int, clients: int) -> dict[str, CeilingRun]:
    """Start the ceiling worker process, run the shapes in alternating rounds (so a change in the
    machine's load during the run hits both alike), stop the worker."""
    task_queue = f"ceiling-{uuid.uuid4().hex[:8]}"
    worker = stack.processes.spawn(
        "ceiling-worker",
        [PYTHON, "-m", "bench.ceiling_worker", stack.temporal_address, task_queue],
        stack.folder,
        stack.env(),
    )
    try:
        await stack.wait_for_poller(task_queue, worker)
        client = await Client.connect(stack.temporal_address)
        shapes = shapes_from(case)
        await drive(client, task_queue, "warm-up", shapes["case_shape"], clients, clients)  # cold start not measured
        rounds: dict[str, list[CeilingRun]] = {label: [] for label in shapes}
        for r in range(ROUNDS):
            for label, shape in shapes.items():
                size = share(workflows, ROUNDS, r)
                if size:
                    rounds[label].append(await drive(client, task_queue, label, shape, size, clients))
        runs = {label: merge(parts) for label, parts in rounds.items()}
        for run in runs.values():
            if run.done:
                run.measured = await shape_of(client, run.done[-1])
        return runs
    finally:
        await asyncio.to_thread(stack.processes.stop, worker, 10.0)
