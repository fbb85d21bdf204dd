"""应报未报（倒逼）— per grid and per grid member, with the cases behind each count.

The 口径 and the computation live in ``api/unreported.py``; this route parses the window and reads
through the database pool, off the event loop.
"""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Query, Response

from api import unreported
from api.deps import StateDep, SupervisorDep
from api.stats_export import attachment, unreported_csv

router = APIRouter(prefix="/stats", tags=["stats"])
FROM = Query(None, description="上报时间起（含），ISO 8601；无时区按北京时间；缺省为止前 30 天")
TO = Query(None, description="上报时间止（不含），ISO 8601；无时区按北京时间；缺省为现在")


@router.get("/unreported", response_model=unreported.UnreportedReport, summary="应报未报（倒逼）：按网格、网格员")
async def unreported_report(
    p: SupervisorDep, s: StateDep, reported_from: datetime | None = FROM, reported_to: datetime | None = TO
):
    """Citizen-channel cases of 巡查应发现 categories reported in [reported_from, reported_to) that no
    grid report of the same category in the same grid preceded within the district's N days
    (``definitions`` holds the 口径). The window is at most 366 days."""
    now = datetime.now(UTC)
    start, end = unreported.window(reported_from, reported_to, now)
    return await s.db.run(unreported.load, s.db, s.district, start, end, now)


@router.get(
    "/unreported.csv",
    summary="应报未报导出 CSV（按网格、网格员）",
    responses={200: {"content": {"text/csv": {}}, "description": "CSV（UTF-8 BOM）"}},
    response_class=Response,
)
async def unreported_export(
    p: SupervisorDep, s: StateDep, reported_from: datetime | None = FROM, reported_to: datetime | None = TO
):
    report = await unreported_report(p, s, reported_from, reported_to)
    return Response(
        unreported_csv(report), media_type="text/csv; charset=utf-8", headers=attachment("unreported", "csv")
    )
