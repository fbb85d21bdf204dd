"""Open311 GeoReport v2 — the same intake and case projection in the spec's shapes (JSON only).

Spec: https://wiki.open311.org/GeoReport_v2/. Decisions where the spec leaves room:

- services are the district's event catalog; none has extra attributes (``metadata: false``);
- a new request needs ``address_id`` = a grid code (cases are routed by grid); lat/long are
  checked but not stored; email, device_id, account_id and attribute[...] are ignored;
- ``api_key`` (form/JSON field, query string or ``X-API-Key``) must be an intake or admin key;
  each POST is a new case of channel ``mini_program`` (the spec has no client reference);
- reads are public: never the reporter's name or phone, the address masked;
- errors are the spec's array ``[{"code": <http status>, "description": …}]``, never the app's shape.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, tzinfo
from urllib.parse import parse_qs
from uuid import uuid4
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from sqlalchemy import func, or_

from api import open311 as spec
from api.auth import authenticate, require
from api.deps import DistrictDep, SessionDep, SettingsDep, StateDep
from api.errors import ApiError
from api.intake import accept, tracking_url
from api.open311 import (
    CLOSED_STEPS,
    ERRORS,
    FIELD_PROBLEMS,
    MAX_IDS,
    MAX_RESULTS,
    TRACKING,
    WINDOW,
    RequestCreated,
    Service,
    ServiceDefinition,
    ServiceRequest,
    error,
)
from api.queries import YEARS
from api.schemas import IntakeReport
from domain.district import District, UnknownCode
from domain.vocabulary import Channel, Role, UnitKind
from store.tables import CaseRow, Report

router = APIRouter(prefix="/open311/v2", tags=["open311"])


@router.get("/services.json", response_model=list[Service], summary="服务类型列表（即事件分类目录）")
def services(district: DistrictDep) -> list[Service]:
    return [spec.service(c) for c in district.categories]


@router.get(
    "/services/{service_code}.json",
    response_model=ServiceDefinition,
    responses=ERRORS,
    summary="服务类型定义（本系统无附加字段）",
)
def definition(service_code: str, district: DistrictDep):
    try:
        district.category(service_code)
    except UnknownCode:
        return error(404, f"未知服务类型：{service_code}")
    return ServiceDefinition(service_code=service_code)


# --- new requests ------------------------------------------------------------------------------


async def _fields(request: Request) -> dict[str, str]:
    """Query string plus the body, form-encoded (the spec) or a JSON object; ValueError otherwise."""
    raw = await request.body()
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind == "application/json":
        try:
            data = json.loads(raw or b"{}")
        except RecursionError:  # nested thousands deep: not a request anyone sends
            raise ValueError("nested too deeply") from None
        if not isinstance(data, dict):
            raise ValueError("not an object")
        body = {k: str(v) for k, v in data.items() if v is not None and not isinstance(v, (dict, list))}
    elif kind in ("application/x-www-form-urlencoded", ""):
        body = {k: v[0] for k, v in parse_qs(raw.decode("utf-8"), keep_blank_values=True).items()}
    else:
        raise ValueError(kind)
    return {**dict(request.query_params), **{k: v.strip() for k, v in body.items()}}


def _keyed(request: Request, key: str | None) -> Request:
    """The request as ``authenticate`` reads it, with the spec's ``api_key`` field as its X-API-Key."""
    return Request({"type": "http", "method": "POST", "headers": [(b"x-api-key", key.encode())]}) if key else request


def _problem(f: dict[str, str], district: District) -> str | None:
    code, grid = f.get("service_code", ""), f.get("address_id", "")
    if not code:
        return "缺少 service_code（服务类型）"
    try:
        district.category(code)
    except UnknownCode:
        return f"未知服务类型：{code}"
    if not grid:
        return "缺少 address_id：请填写网格编码（本系统按网格分派诉求）"
    try:
        if district.unit(grid).kind != UnitKind.GRID:
            raise UnknownCode(grid)
    except UnknownCode:
        return f"address_id 不是本辖区的网格编码：{grid}"
    for name in ("lat", "long"):
        try:
            if f.get(name):
                float(f[name])
        except ValueError:
            return f"{name} 不是有效的坐标"
    if not f.get("phone"):
        return "缺少 phone（联系电话）"
    return None


@router.post(
    "/requests.json",
    status_code=201,
    response_model=list[RequestCreated],
    responses=ERRORS,
    summary="提交诉求（表单或 JSON；需受理渠道 api_key）",
)
async def create(request: Request, st: StateDep, settings: SettingsDep, district: DistrictDep):
    """Stored and started exactly as ``/intake/{channel}`` does; answers with the case code."""
    try:
        f = await _fields(request)
    except ValueError:  # undecodable bytes, bad JSON, multipart
        return error(400, "请求体须为 application/x-www-form-urlencoded 表单或 JSON 对象")
    try:
        keyed = _keyed(request, f.get("api_key"))
        p = require(await st.db.run(authenticate, keyed, st.keys, st.db), Role.INTAKE)
    except ApiError as err:
        return error(403, f"api_key 无效或无权提交：{err.message}")
    if p.channel and p.channel != Channel.MINI_PROGRAM:
        return error(403, f"该密钥只能提交 {p.channel.value} 渠道的诉求")
    if problem := _problem(f, district):
        return error(400, problem)
    media = f.get("media_url", "")
    try:
        body = IntakeReport(
            channel_ref=f"open311-{uuid4().hex}",
            name=f.get("last_name", "") + f.get("first_name", ""),
            phone=f["phone"],
            address=f.get("address_string", ""),
            grid=f["address_id"],
            description=f.get("description", ""),
            photos=[media] if media else [],
            category_hint=f["service_code"],
        )
    except ValidationError as err:
        fields = dict.fromkeys(str(e["loc"][0]) for e in err.errors())
        return error(400, "请求内容不合规：" + "；".join(FIELD_PROBLEMS.get(k, k) for k in fields))
    # Temporal down: stored all the same, and the relay starts it later.
    stored = (await accept(st.client, settings, st.db, district, Channel.MINI_PROGRAM, body.model_dump())).report
    # The answer goes back to the reporter's own app, so it may carry the evaluation link.
    link = tracking_url(settings, stored)
    created = RequestCreated(
        service_request_id=stored.case_code,
        service_notice=f"诉求已受理，案件编码 {stored.case_code}，{TRACKING}；评价与回访请使用链接 {link}",
    )
    return JSONResponse(status_code=201, content=[created.model_dump()])


# --- reading requests --------------------------------------------------------------------------


def _window(start_s: str | None, end_s: str | None, tz: tzinfo) -> tuple[datetime, datetime]:
    """The spec's date range: ISO 8601 (naive = the district's time zone), last 90 days by default, at most 90."""

    def instant(value: str | None, name: str) -> datetime | None:
        try:
            at = datetime.fromisoformat(value) if value else None
        except ValueError:
            raise ValueError(f"{name} 不是有效的 ISO 8601 时间：{value}") from None
        if at and at.year not in YEARS:  # year 1 or 9999 would overflow the window arithmetic
            raise ValueError(f"{name} 超出范围（{YEARS.start}–{YEARS.stop - 1} 年）：{value}")
        return at.replace(tzinfo=tz) if at and not at.tzinfo else at

    start, end = instant(start_s, "start_date"), instant(end_s, "end_date")
    end = end or (start + WINDOW if start else datetime.now(UTC))
    start = start or end - WINDOW
    if start > end:
        raise ValueError("start_date 不能晚于 end_date")
    if end - start > WINDOW:
        raise ValueError("查询时间范围不能超过 90 天")
    return start, end


@router.get(
    "/requests.json",
    response_model=list[ServiceRequest],
    responses=ERRORS,
    summary="查询诉求（公开；按编号、服务类型、时间、状态筛选，不含个人信息）",
)
def requests(
    session: SessionDep,
    district: DistrictDep,
    settings: SettingsDep,
    service_request_id: str | None = None,
    service_code: str | None = None,
    start_date: str | None = None,
    end_date: str | None = None,
    status: str | None = None,
    jurisdiction_id: str | None = Query(None, description="单一辖区，忽略"),
):
    """``service_request_id`` (comma-separated) overrides every other parameter; dates default to the last 90 days."""
    tz = ZoneInfo(settings.timezone)
    stmt = spec.joined()
    if service_request_id:
        stmt = stmt.where(Report.case_code.in_(spec.split(service_request_id)[:MAX_IDS]))
    else:
        try:
            start, end = _window(start_date, end_date, tz)
        except ValueError as err:
            return error(400, str(err))
        stmt = stmt.where(Report.received_at >= start, Report.received_at <= end)
        if service_code:
            stmt = stmt.where(func.coalesce(CaseRow.category, Report.category_hint).in_(spec.split(service_code)))
        wanted = set(spec.split(status or ""))
        if not wanted <= {"open", "closed"}:
            return error(400, "status 只能为 open 或 closed")
        if wanted == {"closed"}:
            stmt = stmt.where(CaseRow.step.in_(CLOSED_STEPS))
        elif wanted == {"open"}:
            stmt = stmt.where(or_(CaseRow.step.is_(None), CaseRow.step.not_in(CLOSED_STEPS)))
    rows = session.exec(stmt.order_by(Report.received_at.desc(), Report.case_code).limit(MAX_RESULTS)).all()
    return spec.render(session, district, tz, rows)


@router.get(
    "/requests/{service_request_id}.json",
    response_model=list[ServiceRequest],
    responses=ERRORS,
    summary="查询单个诉求（公开，不含个人信息）",
)
def request_one(service_request_id: str, session: SessionDep, district: DistrictDep, settings: SettingsDep):
    rows = session.exec(spec.joined().where(Report.case_code == service_request_id)).all()
    if not rows:
        return error(404, f"诉求 {service_request_id} 不存在")
    return spec.render(session, district, ZoneInfo(settings.timezone), rows)
