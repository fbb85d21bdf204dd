"""考核统计页面 — ``/ui/stats``: the figures by any grouping, the unit ranking, the trend and the
口径, with the workbook and CSV downloads. Reads ``stats_report`` like ``GET /stats`` does.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request, Response

from api import stats_report
from api.deps import DistrictDep, SessionDep
from api.queries import YEARS
from api.statistics import GROUPINGS, PERIODS
from api.stats_export import XLSX, attachment, columns_of, csv_text, district_workbook
from api.web import assets
from api.web.charts import trend_chart, unit_charts
from api.web.session import ViewerDep, to_login
from api.web.views import denied, render
from domain.vocabulary import CENTER_ROLES

router = APIRouter(prefix="/ui", include_in_schema=False)
DATE_PROBLEM = f"日期格式应为 年-月-日（{YEARS.start}–{YEARS.stop - 1} 年）"
DAILY_TREND_DAYS = 62  # a window up to two months trends by day, a longer one by month


def _day(value: str | None) -> datetime | None:
    """A Beijing day (naive midnight: ``aware`` reads it as Beijing time), or None."""
    try:
        day = datetime.strptime(value, "%Y-%m-%d") if value else None
    except ValueError:
        return None
    return day if day and day.year in YEARS else None


def _trend_period(first: datetime | None, upto: datetime | None, chosen: str | None) -> str:
    if chosen in PERIODS:
        return chosen
    if first and upto and (upto - first).days <= DAILY_TREND_DAYS:
        return "day"
    return "month"


class StatsQuery:
    """The page's query: Beijing days 起/止 (止 included), the grouping and the trend's period."""

    def __init__(
        self, start: str | None = None, end: str | None = None, by: str | None = None, period: str | None = None
    ):
        self.start, self.end, self.period = start or "", end or "", period if period in PERIODS else ""
        self.group = by if by in GROUPINGS else "unit"
        self.first, last = _day(start), _day(end)
        self.upto = last + timedelta(days=1) if last else None
        self.problem = None
        if (start and self.first is None) or (end and last is None):
            self.problem = DATE_PROBLEM
        elif self.first and last and self.first > last:
            self.problem = "统计区间无效：开始日期须不晚于结束日期"


QueryDep = Annotated[StatsQuery, Depends()]


def _refused(request: Request, p) -> Response | None:
    if p is None:
        return to_login(request)
    if p.role not in CENTER_ROLES:
        return denied(request, p, "考核统计仅供综治中心使用")
    return None


@router.get("/stats")
def stats_page(request: Request, p: ViewerDep, session: SessionDep, district: DistrictDep, q: QueryDep):
    if refused := _refused(request, p):
        return refused
    group, first, upto, problem, period = q.group, q.first, q.upto, q.problem, q.period
    start, end = q.start, q.end
    report = trend = None
    if problem is None:
        now = datetime.now(UTC)
        granularity = _trend_period(first, upto, period)
        report = stats_report.stats_report(session, district, group, granularity, first, upto, now)
        trend = (
            report
            if group == "period"
            else stats_report.stats_report(session, district, "period", granularity, first, upto, now)
        )
    window = {k: v for k, v in (("start", start), ("end", end)) if v}
    return render(
        request,
        "stats.html",
        p,
        district,
        title="考核统计",
        report=report,
        columns=columns_of(report) if report else [],
        ranking=stats_report.ranking(report) if report and group == "unit" else [],
        charts=unit_charts(report.rows, group) if report and group in ("unit", "area") else [],
        trend=trend_chart(trend.rows, PERIODS[trend.period or "month"]) if trend else "",
        problem=problem,
        by=group,
        period=period,
        groupings=GROUPINGS,
        periods=PERIODS,
        start=start,
        end=end,
        workbook_link="/ui/stats/export.xlsx?" + urlencode({**window, "period": period or "month"}),
        csv_link="/ui/stats/export.csv?" + urlencode({**window, "by": group, "period": period or "month"}),
        unreported_link="/ui/stats/unreported?" + urlencode(window),
        plotly_version=assets.plotly_version(),
    )


@router.get("/stats/export.{extension}")
def stats_download(
    request: Request, p: ViewerDep, session: SessionDep, district: DistrictDep, extension: str, q: QueryDep
):
    """The page's figures as a workbook (every grouping) or as CSV (the grouping shown)."""
    if refused := _refused(request, p):
        return refused
    if extension not in ("xlsx", "csv"):
        return denied(request, p, "不支持的导出格式（xlsx 或 csv）", status=404)
    if q.problem:
        return denied(request, p, q.problem, status=422)
    granularity = q.period or "month"
    if extension == "xlsx":
        content = district_workbook(session, district, granularity, q.first, q.upto)
        return Response(content, media_type=XLSX, headers=attachment("all", "xlsx"))
    report = stats_report.stats_report(session, district, q.group, granularity, q.first, q.upto)
    return Response(csv_text(report), media_type="text/csv; charset=utf-8", headers=attachment(q.group, "csv"))
