"""Open311 GeoReport v2 — the spec's shapes and how a stored report and its case map onto them.

The routes are in ``api/routes/open311.py``; this module holds what they answer with: the
request and service models, the spec's error array, and the public rendering of a case (no
reporter's name or phone, the address masked, status notes in Chinese).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta, tzinfo
from typing import Literal

from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import func
from sqlmodel import Session, select

from api import masking
from domain.district import Category, District
from domain.labels import VERDICT_LABELS
from domain.limits import ADDRESS_MAX, NAME_MAX, RESULT_MAX
from domain.vocabulary import STEP_LABELS, Step, Verdict
from store.tables import CaseRow, Report, TimelineRow

WINDOW = timedelta(days=90)  # the spec's default and widest date range
CLOSED_STEPS = tuple(s.value for s in Step if s.terminal)
MAX_RESULTS, MAX_IDS = 1000, 100
TRACKING = "可凭案件编码与手机号后四位查询办理进度"
FIELD_PROBLEMS = {
    "phone": "phone 手机号格式不正确",
    "description": f"description 问题描述须为 5 至 {RESULT_MAX} 字",
    "name": f"first_name/last_name 姓名过长（最多 {NAME_MAX} 字）",
    "address": f"address_string 地址过长（最多 {ADDRESS_MAX} 字）",
}


class Open311Error(BaseModel):
    code: int
    description: str


class Service(BaseModel):
    service_code: str
    service_name: str
    description: str
    metadata: bool = False
    type: Literal["realtime", "batch", "blackbox"] = "realtime"
    keywords: str
    group: str


class ServiceDefinition(BaseModel):
    service_code: str
    attributes: list[dict] = []


class RequestCreated(BaseModel):
    service_request_id: str
    service_notice: str
    account_id: str | None = None


class ServiceRequest(BaseModel):
    service_request_id: str
    status: Literal["open", "closed"]
    status_notes: str
    service_name: str | None
    service_code: str | None
    description: str
    agency_responsible: str | None
    service_notice: str | None
    requested_datetime: datetime | None
    updated_datetime: datetime | None
    expected_datetime: datetime | None
    address: str
    address_id: str
    zipcode: str | None = None
    lat: float | None = None
    long: float | None = None
    media_url: str | None


ERRORS: dict[int | str, dict] = {code: {"model": list[Open311Error]} for code in (400, 403, 404)}


def error(status: int, description: str) -> JSONResponse:
    return JSONResponse(status_code=status, content=[Open311Error(code=status, description=description).model_dump()])


def split(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


# --- services ----------------------------------------------------------------------------------


def service(c: Category) -> Service:
    return Service(
        service_code=c.code,
        service_name=c.name,
        description=f"{c.group} · {c.name}，默认{int(c.level)}级",
        keywords=f"{c.group},{c.name}",
        group=c.group,
    )


def notes(row: CaseRow | None, agency: str | None) -> str:
    if row is None:
        return "已受理，待立案"
    step = Step(row.step)
    if step == Step.DECLINED:
        return f"不予受理：{row.close_reason or '未说明原因'}"
    if step == Step.MERGED:
        return f"重复件，已并入案件 {row.primary_case}"
    if step == Step.CLOSED:
        verdict = f"（群众评价：{VERDICT_LABELS[Verdict(row.verdict)]}）" if row.verdict else ""
        return "已结案归档" + (f"：{row.close_reason}" if row.close_reason else "") + verdict
    return f"{STEP_LABELS[step]}中" + (f"：承办单位 {agency}" if agency else "")


def render(
    session: Session, district: District, tz: tzinfo, rows: Sequence[tuple[Report, CaseRow | None]]
) -> list[ServiceRequest]:
    codes = [report.case_code for report, _ in rows]
    latest = select(TimelineRow.case_code, func.max(TimelineRow.at)).where(TimelineRow.case_code.in_(codes))
    updated = dict(session.exec(latest.group_by(TimelineRow.case_code)).all()) if codes else {}
    categories, units = {c.code: c for c in district.categories}, {u.code: u.name for u in district.units}

    def local(at: datetime | None) -> datetime | None:
        return at.astimezone(tz) if at else None

    out = []
    for report, row in rows:
        code = (row.category if row else None) or report.category_hint
        agency = units.get(row.lead_unit) if row and row.lead_unit else None
        out.append(
            ServiceRequest(
                service_request_id=report.case_code,
                status="closed" if row and row.step in CLOSED_STEPS else "open",
                status_notes=notes(row, agency),
                service_name=categories[code].name if code in categories else None,
                service_code=code,
                description=masking.free_text(report.description, names=[report.name]),
                agency_responsible=agency,
                service_notice=TRACKING,
                requested_datetime=local(report.received_at),
                updated_datetime=local(updated.get(report.case_code) or report.received_at),
                expected_datetime=local(row.deadline if row else None),
                address=masking.address(report.address),
                address_id=report.grid,
                media_url=(report.photos or [None])[0],
            )
        )
    return out


def joined():
    return select(Report, CaseRow).join(CaseRow, CaseRow.case_code == Report.case_code, isouter=True)
