"""考核统计 — received, closed, on time, overdue, returned, reworked, satisfaction, stars.

The figures and their definitions live in ``api/statistics.py`` (pure, unit-tested); this route
only selects the projected cases reported in the window and hands them over.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from sqlmodel import select

from api import statistics
from api.queries import aware
from api.deps import DistrictDep, SessionDep, SupervisorDep
from api.errors import ApiError
from store.tables import CaseRow

router = APIRouter(prefix="/stats", tags=["stats"])

_D = statistics.DEFINITIONS


class StatsRow(BaseModel):
    key: str | None = Field(description="单位/镇街编码，或期间（YYYY-MM-DD / YYYY-Www / YYYY-MM）；未派遣为空")
    label: str
    received: int = Field(description=_D["received"])
    accepted: int = Field(description=_D["accepted"])
    closed: int = Field(description=_D["closed"])
    closed_on_time: int = Field(description=_D["closed_on_time"])
    on_time_rate: float | None = Field(description=_D["on_time_rate"])
    due: int = Field(description=_D["due"])
    closure_rate: float | None = Field(description=_D["closure_rate"])
    overdue: int = Field(description=_D["overdue"])
    returned: int = Field(description=_D["returned"])
    reworked: int = Field(description=_D["reworked"])
    extended: int = Field(description=_D["extended"])
    evaluated: int = Field(description=_D["evaluated"])
    satisfied: int = Field(description=_D["satisfied"])
    satisfaction_rate: float | None = Field(description=_D["satisfaction_rate"])
    avg_handling_hours: float | None = Field(description=_D["avg_handling_hours"])
    stars: int | None = Field(description=_D["stars"])


class StatsResponse(BaseModel):
    by: Literal["unit", "area", "period"]
    period: Literal["day", "week", "month"] | None = Field(description="by=period 时的期间粒度")
    reported_from: datetime | None
    reported_to: datetime | None
    generated_at: datetime = Field(description="统计时点（应办结、超期按此时点判断）")
    definitions: dict[str, str] = Field(description="各指标口径（中文，含公式）")
    rows: list[StatsRow]
    total: StatsRow


@router.get("", response_model=StatsResponse, summary="考核统计（按单位 / 镇街 / 期间）")
def stats(p: SupervisorDep, session: SessionDep, district: DistrictDep,
          by: Literal["unit", "area", "period"] = Query("unit", description="unit 主办单位 / area 镇街 / period 期间"),
          period: Literal["day", "week", "month"] = Query("month", description="by=period 时按北京时间日 / ISO 周 / 月"),
          reported_from: datetime | None = Query(None, description="上报时间起（含），ISO 8601；无时区按北京时间"),
          reported_to: datetime | None = Query(None, description="上报时间止（不含），ISO 8601；无时区按北京时间")):
    """Figures per group and in total over the cases reported in [reported_from, reported_to)."""
    reported_from, reported_to = aware(reported_from), aware(reported_to)
    if reported_from and reported_to and reported_from >= reported_to:
        raise ApiError(422, "InvalidInput", "统计区间无效：reported_from 须早于 reported_to")
    # District scale (~10^5 cases a year): select the columns in the window and count in Python.
    # A city-scale deployment moves this into SQL aggregates (GROUP BY lead_unit / town / date_trunc).
    stmt = select(*[getattr(CaseRow, f) for f in statistics.RECORD_FIELDS])
    if reported_from:
        stmt = stmt.where(CaseRow.reported_at >= reported_from)
    if reported_to:
        stmt = stmt.where(CaseRow.reported_at < reported_to)
    records = [statistics.CaseRecord(**row._asdict()) for row in session.exec(stmt).all()]
    report = statistics.compute(records, by, district, datetime.now(timezone.utc), period)
    return StatsResponse(
        by=report.by, period=period if by == "period" else None, reported_from=reported_from, reported_to=reported_to,
        generated_at=report.generated_at, definitions=report.definitions,
        rows=[StatsRow(**f.as_dict()) for f in report.rows], total=StatsRow(**report.total.as_dict()),
    )
