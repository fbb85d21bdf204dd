"""考核统计 — by unit (assignments), area, category, channel or period; as JSON, Excel or CSV.

The counting is SQL (``api/stats_sql.py``), the figures and their 口径 ``api/statistics.py``; the
three answers here read the same :func:`api.stats_report.stats_report`.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Query, Response

from api.deps import DistrictDep, SessionDep, SupervisorDep
from api.statistics import GroupBy, Period
from api.stats_export import XLSX, attachment, csv_text, district_workbook
from api.stats_report import StatsResponse, stats_report

router = APIRouter(prefix="/stats", tags=["stats"])

BY = Query("unit", description="unit 主办单位（按承办记录）/ area 镇街 / category 类别 / channel 渠道 / period 期间")
PERIOD = Query("month", description="by=period 时按北京时间 日 day / ISO 周 week / 月 month / 季度 quarter")
FROM = Query(None, description="上报时间起（含），ISO 8601；无时区按北京时间")
TO = Query(None, description="上报时间止（不含），ISO 8601；无时区按北京时间")


@router.get("", response_model=StatsResponse, summary="考核统计（按单位 / 镇街 / 类别 / 渠道 / 期间）")
def stats(
    p: SupervisorDep,
    session: SessionDep,
    district: DistrictDep,
    by: GroupBy = BY,
    period: Period = PERIOD,
    reported_from: datetime | None = FROM,
    reported_to: datetime | None = TO,
):
    """Figures per group and in total over the cases reported in [reported_from, reported_to)."""
    return stats_report(session, district, by, period, reported_from, reported_to)


@router.get(
    "/export.xlsx",
    summary="考核统计导出 Excel（各分组、排名与口径各一页）",
    responses={200: {"content": {XLSX: {}}, "description": "工作簿"}},
    response_class=Response,
)
def export_workbook(
    p: SupervisorDep,
    session: SessionDep,
    district: DistrictDep,
    period: Period = PERIOD,
    reported_from: datetime | None = FROM,
    reported_to: datetime | None = TO,
):
    """Every grouping (the period one at ``period``), the unit ranking and the definitions."""
    content = district_workbook(session, district, period, reported_from, reported_to)
    return Response(content, media_type=XLSX, headers=attachment("all", "xlsx"))


@router.get(
    "/export.csv",
    summary="考核统计导出 CSV（一个分组）",
    responses={200: {"content": {"text/csv": {}}, "description": "CSV（UTF-8 BOM）"}},
    response_class=Response,
)
def export_csv(
    p: SupervisorDep,
    session: SessionDep,
    district: DistrictDep,
    by: GroupBy = BY,
    period: Period = PERIOD,
    reported_from: datetime | None = FROM,
    reported_to: datetime | None = TO,
):
    report = stats_report(session, district, by, period, reported_from, reported_to)
    return Response(csv_text(report), media_type="text/csv; charset=utf-8", headers=attachment(by, "csv"))
