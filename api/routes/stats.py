"""考核统计 — received, closed, on time, overdue, returned, reworked, satisfaction, stars.

The figures and their definitions live in ``api/statistics.py`` (pure, unit-tested); this route
only selects the projected cases reported in the window and hands them over.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Query

from api import reads
from api.deps import DistrictDep, SessionDep, SupervisorDep

router = APIRouter(prefix="/stats", tags=["stats"])


@router.get("", response_model=reads.StatsResponse, summary="考核统计（按单位 / 镇街 / 期间）")
def stats(
    p: SupervisorDep,
    session: SessionDep,
    district: DistrictDep,
    by: reads.Grouping = Query("unit", description="unit 主办单位 / area 镇街 / period 期间"),
    period: reads.Period = Query("month", description="by=period 时按北京时间日 / ISO 周 / 月"),
    reported_from: datetime | None = Query(None, description="上报时间起（含），ISO 8601；无时区按北京时间"),
    reported_to: datetime | None = Query(None, description="上报时间止（不含），ISO 8601；无时区按北京时间"),
):
    """Figures per group and in total over the cases reported in [reported_from, reported_to)."""
    return reads.stats_report(session, district, by, period, reported_from, reported_to)
