"""考核统计 report — the window, the SQL counts and the finished rows, as the API returns them.

``GET /stats``, the statistics page and the workbook export all read through :func:`stats_report`,
so the three can never disagree.
"""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel, Field
from sqlmodel import Session

from api import statistics, stats_sql
from api.errors import ApiError
from api.queries import aware
from api.statistics import DEFINITIONS, Figures, GroupBy, Period, Sums
from domain.district import District

_D = DEFINITIONS


class StatsRow(BaseModel):
    key: str | None = Field(
        description="单位 / 镇街 / 类别 / 渠道编码，或期间（YYYY-MM-DD / YYYY-Www / YYYY-MM / YYYY-Qn）；未知为空"
    )
    label: str
    received: int | None = Field(description=_D["received"])
    accepted: int | None = Field(description=_D["accepted"])
    assigned: int | None = Field(description=_D["assigned"])
    closed: int = Field(description=_D["closed"])
    closed_on_time: int = Field(description=_D["closed_on_time"])
    on_time_rate: float | None = Field(description=_D["on_time_rate"])
    due: int = Field(description=_D["due"])
    closure_rate: float | None = Field(description=_D["closure_rate"])
    overdue: int = Field(description=_D["overdue"])
    returned: int = Field(description=_D["returned"])
    escalated: int = Field(description=_D["escalated"])
    reworked: int = Field(description=_D["reworked"])
    extended: int = Field(description=_D["extended"])
    evaluated: int = Field(description=_D["evaluated"])
    satisfied: int = Field(description=_D["satisfied"])
    satisfaction_rate: float | None = Field(description=_D["satisfaction_rate"])
    avg_handling_hours: float | None = Field(description=_D["avg_handling_hours"])
    stars: int | None = Field(description=_D["stars"])


class StatsResponse(BaseModel):
    by: GroupBy
    period: Period | None = Field(description="by=period 时的期间粒度")
    reported_from: datetime | None
    reported_to: datetime | None
    generated_at: datetime = Field(description="统计时点（应办结、超期按此时点判断）")
    definitions: dict[str, str] = Field(description="各指标口径（中文，含公式）")
    rows: list[StatsRow]
    total: StatsRow = Field(description="合计：按单位时为各单位承办记录之和，其余为全部案件")


def _fold(
    raw: list[tuple[str | None, Sums]], by: GroupBy, district: District, period: Period
) -> dict[tuple[str | None, str], Sums]:
    """Raw SQL groups (grids, days …) added into the report's groups (towns, months …)."""
    groups: dict[tuple[str | None, str], Sums] = {}
    for key, sums in raw:
        group = statistics.group_of(key, by, district, period)
        groups[group] = groups.get(group, Sums()) + sums
    return groups


def stats_report(
    session: Session,
    district: District,
    by: GroupBy,
    period: Period,
    reported_from: datetime | None,
    reported_to: datetime | None,
    now: datetime | None = None,
) -> StatsResponse:
    """Figures per group and in total over the cases reported in [reported_from, reported_to)."""
    reported_from, reported_to = aware(reported_from), aware(reported_to)
    if reported_from and reported_to and reported_from >= reported_to:
        raise ApiError(422, "InvalidInput", "统计区间无效：reported_from 须早于 reported_to")
    now = now or datetime.now(UTC)
    per_unit = by == "unit"
    raw = (
        stats_sql.unit_sums(session, reported_from, reported_to, now)
        if per_unit
        else stats_sql.case_sums(session, by, reported_from, reported_to, now)
    )
    groups = _fold(raw, by, district, period)
    order = statistics.order_key(by, district)
    rows = [statistics.finish(groups[g], *g, per_unit=per_unit) for g in sorted(groups, key=order)]
    total = statistics.finish(sum(groups.values(), Sums()), None, "合计", per_unit=per_unit)
    return StatsResponse(
        by=by,
        period=period if by == "period" else None,
        reported_from=reported_from,
        reported_to=reported_to,
        generated_at=now,
        definitions=dict(DEFINITIONS),
        rows=[StatsRow(**f.as_dict()) for f in rows],
        total=StatsRow(**total.as_dict()),
    )


def ranking(report: StatsResponse) -> list[StatsRow]:
    """排名 of a by-unit report (see :func:`api.statistics.ranking`)."""
    figures = [Figures(**row.model_dump()) for row in report.rows]
    order = [f.key for f in statistics.ranking(figures)]
    by_key = {row.key: row for row in report.rows}
    return [by_key[key] for key in order]
