"""时限 — turn the SLA policy into absolute instants with the business calendar.

The workflow passes ``workflow.now()`` as the start, so a retried activity computes the same
instants; the workflow then only waits on them.
"""

from __future__ import annotations

from temporalio import activity

from domain.calendar import BusinessCalendar
from domain.commands import ClockRequest, DeadlineRequest, Instant
from domain.messages import Clock


class DeadlineActivities:
    def __init__(self, calendar: BusinessCalendar) -> None:
        self.calendar = calendar

    @activity.defn
    def compute_deadline(self, req: DeadlineRequest) -> Instant:
        d = self.calendar.add(req.start, req.duration)
        return Instant(at=d.at, estimated=d.estimated)

    @activity.defn
    def compute_clock(self, req: ClockRequest) -> Clock:
        """A fresh clock from ``start``; with ``extend_from`` + ``extra``, the deadline moves and
        the warning and rungs are recomputed from the new deadline (the sign-for limit stays)."""
        add, lc = self.calendar.add, req.level_clock
        sign_by = add(req.start, req.sign_limit)
        deadline = add(req.extend_from, req.extra) if req.extend_from and req.extra else add(req.start, lc.limit)
        yellow_back = lc.yellow_before.model_copy(update={"amount": -lc.yellow_before.amount})
        parts = [
            sign_by,
            deadline,
            add(deadline.at, yellow_back),
            add(deadline.at, lc.urge_after),
            add(deadline.at, lc.supervise_after),
            add(deadline.at, lc.escalate_after),
        ]
        return Clock(
            started_at=req.start,
            sign_by=sign_by.at,
            deadline=deadline.at,
            yellow_at=max(parts[2].at, req.start),
            urge_at=parts[3].at,
            supervise_at=parts[4].at,
            escalate_at=parts[5].at,
            estimated=any(p.estimated for p in parts),
        )
