"""综治中心 — list and inspect cases (the actions on them: ``api/routes/actions.py``)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Query

from api import reads
from api.deps import DistrictDep, SessionDep, StaffDep, StateDep
from api.schemas import CaseDetail, CaseSummary, Page
from domain.limits import CODE_MAX, PAGE_MAX
from domain.vocabulary import Channel, Step

router = APIRouter(prefix="/cases", tags=["supervision"])


@router.get("", response_model=Page[CaseSummary], summary="案件列表（筛选、分页）")
def list_cases(
    p: StaffDep,
    session: SessionDep,
    district: DistrictDep,
    step: Step | None = None,
    unit: str | None = Query(None, max_length=CODE_MAX),
    area: str | None = Query(None, max_length=CODE_MAX, description="镇街/村社区/网格编码"),
    level: int | None = Query(None, ge=1, le=3),
    overdue: bool | None = None,
    channel: Channel | None = None,
    reported_from: datetime | None = None,
    reported_to: datetime | None = None,
    q: str | None = Query(None, max_length=100, description="诉求描述全文检索"),
    order: Literal["deadline", "reported"] = "reported",
    page: int = Query(1, ge=1, le=PAGE_MAX),
    size: int = Query(20, ge=1, le=200),
):
    """Supervisors see every case; unit staff only cases their unit leads."""
    filters = reads.CaseFilter(
        step=step,
        unit=unit,
        area=area,
        level=level,
        overdue=overdue,
        channel=channel,
        reported_from=reported_from,
        reported_to=reported_to,
        q=q,
        order=order,
    )
    return reads.case_page(session, district, p, filters, page, size)


@router.get("/{code}", response_model=CaseDetail, summary="案件详情（实时状态与时间线）")
async def detail(code: str, p: StaffDep, s: StateDep):
    return await reads.case_detail(s, code, p, via=f"GET /cases/{code}")
