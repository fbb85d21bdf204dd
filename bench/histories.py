"""What a workflow costs Temporal, read from its history: activities, local activities (markers),
updates, timers, workflow tasks and events. The ceiling workflow copies a real case's shape."""

from __future__ import annotations

import asyncio
import statistics
from dataclasses import asdict, dataclass

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client

COUNTED = {
    "activities": EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED,
    "local_activities": EventType.EVENT_TYPE_MARKER_RECORDED,
    "updates": EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED,
    "timers": EventType.EVENT_TYPE_TIMER_STARTED,
    "timers_fired": EventType.EVENT_TYPE_TIMER_FIRED,
    "workflow_tasks": EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
}


@dataclass(frozen=True)
class Shape:
    """Counts of one workflow history (per case when averaged over a sample)."""

    activities: float
    local_activities: float
    updates: float
    timers: float
    timers_fired: float
    workflow_tasks: float
    events: float

    def as_dict(self) -> dict[str, float]:
        return {k: round(v, 2) for k, v in asdict(self).items()}


async def shape_of(client: Client, workflow_id: str) -> Shape:
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    types = [e.event_type for e in history.events]
    counts = {name: float(types.count(kind)) for name, kind in COUNTED.items()}
    return Shape(**counts, events=float(len(types)))


async def sample_shape(client: Client, workflow_ids: list[str], sample: int = 20) -> Shape:
    """The median of each count over up to ``sample`` histories (evenly spread over the run)."""
    if not workflow_ids:
        raise ValueError("no workflow to read a history from")
    step = max(1, len(workflow_ids) // sample)
    chosen = workflow_ids[::step][:sample]
    shapes = await asyncio.gather(*(shape_of(client, w) for w in chosen))
    fields = asdict(shapes[0]).keys()
    return Shape(**{f: float(statistics.median(getattr(s, f) for s in shapes)) for f in fields})
