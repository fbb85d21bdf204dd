"""应报未报页面 — ``/ui/stats/unreported``: the 倒逼 check per grid and grid member, in Chinese.

Reads what ``GET /stats/unreported`` answers (``api/unreported.py``), through the database pool.
Dates are Beijing days: 起 from its midnight, 止 through its end.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi import APIRouter, Request, Response

from api import unreported
from api.deps import StateDep
from api.errors import ApiError
from api.queries import YEARS
from api.stats_export import attachment, unreported_csv
from api.web.session import CENTER_ROLES, ViewerDep, to_login
from api.web.views import denied, render

router = APIRouter(prefix="/ui", include_in_schema=False)
DATE_PROBLEM = f"日期格式应为 年-月-日（{YEARS.start}–{YEARS.stop - 1} 年）"


def _day(value: str | None) -> datetime | None:
    """A Beijing day (naive midnight, as ``aware`` reads it), or None when empty or not a date."""
    try:
        day = datetime.strptime(value, "%Y-%m-%d") if value else None
    except ValueError:
        return None
    return day if day and day.year in YEARS else None


def _window(start: str | None, end: str | None, now: datetime) -> tuple[datetime, datetime]:
    first, last = _day(start), _day(end)
    if (start and first is None) or (end and last is None):
        raise ApiError(422, "InvalidInput", DATE_PROBLEM)
    if first and last and first > last:
        raise ApiError(422, "InvalidInput", "统计区间无效：开始日期须不晚于结束日期")
    return unreported.window(first, last + timedelta(days=1) if last else None, now)


@router.get("/stats/unreported")
async def unreported_page(
    request: Request, p: ViewerDep, s: StateDep, start: str | None = None, end: str | None = None
):
    if p is None:
        return to_login(request)
    if p.role not in CENTER_ROLES:
        return denied(request, p, "应报未报统计仅供综治中心使用")
    now = datetime.now(UTC)
    problem, report = None, None
    try:
        first, upto = _window(start, end, now)
        report = await s.db.run(unreported.load, s.db, s.district, first, upto, now)
    except ApiError as err:
        problem = err.message
    return render(
        request,
        "unreported.html",
        p,
        s.district,
        title="应报未报",
        report=report,
        problem=problem,
        start=start or "",
        end=end or "",
        categories=[c for c in s.district.categories if c.patrol_findable],
    )


@router.get("/stats/unreported.csv")
async def unreported_download(
    request: Request, p: ViewerDep, s: StateDep, start: str | None = None, end: str | None = None
):
    """The page's table as CSV (grids, then members)."""
    if p is None:
        return to_login(request)
    if p.role not in CENTER_ROLES:
        return denied(request, p, "应报未报统计仅供综治中心使用")
    now = datetime.now(UTC)
    try:
        first, upto = _window(start, end, now)
    except ApiError as err:
        return denied(request, p, err.message, status=422)
    report = await s.db.run(unreported.load, s.db, s.district, first, upto, now)
    return Response(
        unreported_csv(report), media_type="text/csv; charset=utf-8", headers=attachment("unreported", "csv")
    )
