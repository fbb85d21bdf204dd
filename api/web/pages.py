"""网页 — the center's board, a unit's inbox, the case page and the statistics, in Chinese.

Every page reads through the same read service as the JSON routes (``api/reads.py``), so a page
shows exactly what the API would answer the same key: the same filters, the same unit
restrictions, the same masking of personal data.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from temporalio.client import WorkflowQueryFailedError
from temporalio.service import RPCError

from api import reads
from api.accounts import sign_in, sign_out
from api.auth import Principal
from api.deps import DistrictDep, SessionDep, StateDep
from api.errors import ApiError, from_temporal
from api.limiter import login_limiter_of
from api.queries import YEARS
from api.web import actions, admin, assets
from api.web.session import (
    BOARD_ROLES,
    COOKIE,
    ViewerDep,
    clear_login,
    home_of,
    safe_local,
    same_origin,
    set_login,
    to_login,
)
from api.web.views import denied, render
from domain.vocabulary import Channel, Role, Step, UnitKind

router = APIRouter(prefix="/ui", include_in_schema=False)
router.include_router(assets.router)
router.include_router(actions.router)
router.include_router(admin.router)
PAGE_SIZE = 20


def _pick(value: str | None, allowed) -> str | None:
    return value if value in allowed else None


def _int(value: str | None, default: int | None = None, low: int = 1, high: int = 10_000) -> int | None:
    try:
        number = int(value) if value not in (None, "") else default
    except ValueError:
        return default
    return None if number is None else max(low, min(high, number))


def _day(value: str | None) -> datetime | None:
    """A date the page may compute with, or None (not a date, or outside the years queries allow)."""
    try:
        day = datetime.strptime(value, "%Y-%m-%d") if value else None
    except ValueError:
        return None
    return day if day and day.year in YEARS else None


# --- 登录 ----------------------------------------------------------------------------------


@router.get("")
@router.get("/")
def root(p: ViewerDep):
    return RedirectResponse(home_of(p) if p else "/ui/login", status_code=303)


@router.get("/login")
def login_page(request: Request, p: ViewerDep, next: str | None = None):
    return render(request, "login.html", p, title="登录", next=safe_local(next) or "")


@router.post("/login")
def login(request: Request, s: StateDep, login: str = Form(""), password: str = Form(""), next: str = Form("")):
    def refuse(status: int, message: str):
        context = dict(status_code=status, title="登录", next=safe_local(next) or "", login_error=message)
        return render(request, "login.html", None, **context)

    if not same_origin(request):
        return refuse(403, "请求来源无效，请在本系统的登录页登录")
    login, limiter = login.strip()[:64], login_limiter_of(request)
    client = limiter.client_of(request)
    try:
        with limiter.attempt(login, client):
            signed = sign_in(s.db, login, password[:256], s.settings.session_hours) if login else None
            if signed is None:
                limiter.failed(login, client)
    except ApiError as err:  # 429: too many failures for this login or from this address
        return refuse(err.status, err.message)
    if signed is None:
        return refuse(401, "用户名或密码错误，或账号已停用")
    principal = Principal(role=Role(signed.user.role), user=signed.user.login, unit=signed.user.unit)
    target = safe_local(next) or home_of(principal)
    if target.startswith("/ui/board") and principal.role not in BOARD_ROLES:
        target = home_of(principal)
    response = RedirectResponse(target, status_code=303)
    set_login(response, request, s.settings, signed)
    return response


@router.post("/logout")
def logout(request: Request, s: StateDep, p: ViewerDep):
    """Ends the session in the database, not only in this browser."""
    if p is not None and same_origin(request):  # a forged logout does no harm; a kept session would
        sign_out(s.db, request.cookies.get(COOKIE, ""))
    response = RedirectResponse("/ui/login", status_code=303)
    clear_login(response)
    return response


# --- 案件看板 ------------------------------------------------------------------------------


@router.get("/board")
def board(
    request: Request,
    p: ViewerDep,
    session: SessionDep,
    district: DistrictDep,
    step: str | None = None,
    unit: str | None = None,
    area: str | None = None,
    level: str | None = None,
    overdue: str | None = None,
    channel: str | None = None,
    q: str | None = None,
    order: str | None = None,
    page: str | None = None,
    auto: str | None = None,
):
    if p is None:
        return to_login(request)
    if p.role not in BOARD_ROLES:
        return denied(request, p, "案件看板仅供综治中心和核查员使用；承办单位请使用任务收件箱。")
    f = dict(
        step=_pick(step, [s.value for s in Step]),
        unit=_pick(unit, [u.code for u in district.units]),
        area=_pick(area, [u.code for u in district.units if u.kind in (UnitKind.TOWN, UnitKind.VILLAGE)]),
        level=_int(level, None, 1, 3),
        overdue=_pick(overdue, ("1", "0")),
        channel=_pick(channel, [c.value for c in Channel]),
        q=(q or "").strip()[:100] or None,
        order=_pick(order, ("reported", "deadline")) or "reported",
    )
    number = _int(page, 1) or 1
    filters = reads.CaseFilter(
        step=Step(f["step"]) if f["step"] else None,
        unit=f["unit"],
        area=f["area"],
        level=f["level"],
        overdue=None if f["overdue"] is None else f["overdue"] == "1",
        channel=Channel(f["channel"]) if f["channel"] else None,
        q=f["q"],
        order=f["order"],
    )
    result = reads.case_page(session, district, p, filters, number, PAGE_SIZE)
    pages = max(1, -(-result.total // PAGE_SIZE))
    query = {k: v for k, v in f.items() if v not in (None, "")}
    return render(
        request,
        "board.html",
        p,
        district,
        title="案件看板",
        result=result,
        filters=f,
        pages=pages,
        page=number,
        query=query,
        auto=auto == "1",
        steps=[s for s in Step],
        channels=[c for c in Channel],
        lead_units=district.units,
        areas=[u for u in district.units if u.kind in (UnitKind.TOWN, UnitKind.VILLAGE)],
    )


# --- 案件详情 ------------------------------------------------------------------------------


@router.get("/cases/{code}")
async def case_page(code: str, request: Request, p: ViewerDep, s: StateDep):
    if p is None:
        return to_login(request)
    try:
        # The case and what the viewer may do on it: two independent reads, asked together.
        detail, allowed = await asyncio.gather(
            reads.case_detail(s, code, p, via=f"/ui/cases/{code}"), actions.available(s, code, p)
        )
    except (ApiError, RPCError, WorkflowQueryFailedError) as err:
        problem = err if isinstance(err, ApiError) else from_temporal(err)
        return denied(request, p, problem.message, status=problem.status)
    v, district = detail.workflow, s.district
    back = "/ui/board" if p.role in BOARD_ROLES else "/ui/inbox"
    return render(
        request,
        "case.html",
        p,
        district,
        title=f"案件 {code}",
        code=code,
        d=detail,
        v=v,
        back=back,
        actions=allowed,
        generic_forms=actions.generic_forms(allowed),
        categories=district.categories,
        units=[u for u in district.units if u.code != (v.lead_unit if v else None)],
        timeline=sorted(v.timeline, key=lambda e: e.seq, reverse=True) if v else [],
    )


# --- 任务收件箱 ----------------------------------------------------------------------------


@router.get("/inbox")
def inbox(
    request: Request,
    p: ViewerDep,
    session: SessionDep,
    district: DistrictDep,
    unit: str | None = None,
    status: str | None = None,
    page: str | None = None,
):
    if p is None:
        return to_login(request)
    if p.role == Role.VERIFIER:
        return denied(request, p, "任务收件箱供承办单位和综治中心使用；核查员请在案件看板查看本网格的案件。")
    if p.role == Role.UNIT_STAFF:
        if unit and unit != p.unit:
            return denied(request, p, "只能查看本单位的任务")
        unit = p.unit
    unit = _pick(unit, [u.code for u in district.units])
    state = _pick(status, ("active", "done", "returned", "all")) or "active"
    number = _int(page, 1) or 1
    result = pages = None
    if unit:
        result = reads.unit_tasks(session, p, unit, state, None, number, PAGE_SIZE)
        pages = max(1, -(-result.total // PAGE_SIZE))
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return render(
        request,
        "inbox.html",
        p,
        district,
        title="任务收件箱",
        unit=unit,
        status=state,
        result=result,
        page=number,
        pages=pages,
        units=district.units if p.role != Role.UNIT_STAFF else [],
        here=here,
    )
