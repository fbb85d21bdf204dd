"""页面渲染 — the Jinja environment: Beijing times, Chinese labels, lamps, unit and category names."""

from __future__ import annotations

import uuid

import hashlib
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path

from fastapi import Request
from fastapi.templating import Jinja2Templates

from api.auth import Principal
from api.web.session import BOARD_ROLES, CENTER_ROLES, ROLE_LABELS
from domain.district import District, UnknownCode
from domain.vocabulary import EVENT_LABELS, STEP_LABELS, Channel, EventKind, Role, Step, UnitKind, Verdict

HERE = Path(__file__).parent
STATIC = HERE / "static"
STATIC_TYPES = {".css": "text/css; charset=utf-8", ".js": "application/javascript; charset=utf-8", ".svg": "image/svg+xml"}
BEIJING = timezone(timedelta(hours=8), "CST")
templates = Jinja2Templates(directory=HERE / "templates")

CHANNEL_LABELS = {
    Channel.HOTLINE.value: "12345热线", Channel.GRID.value: "网格员巡查", Channel.MINI_PROGRAM.value: "小程序",
    Channel.POLICE_110.value: "110非警务", Channel.WINDOW.value: "窗口",
}
LAMPS = {"green": ("绿", "绿灯：时限内"), "yellow": ("黄", "黄灯：临近时限"), "red": ("红", "红灯：已超期")}
VERDICT_LABELS = {Verdict.SATISFIED.value: "满意", Verdict.BASICALLY_SATISFIED.value: "基本满意",
                  Verdict.DISSATISFIED.value: "不满意", Verdict.NO_ANSWER.value: "未答复"}
TASK_STATUS = {"open": "待签收", "signed": "办理中", "done": "已完成", "returned": "已退单", "withdrawn": "已撤回"}
AWAITING = {"evaluation": "待群众评价", "decision": "群众不满意，待中心决定（重办或结案）", "visit": "待回访答复",
            "visit_wait": "等待回访时点"}
TIMERS = {"verify": "核查时限", "evaluation": "评价期限", "visit_due": "回访时点", "visit_answer": "回访答复期限"}
DURATION_UNITS = {"working_days": "个工作日", "working_hours": "个工作小时", "calendar_days": "天", "hours": "小时", "minutes": "分钟"}
KIND_LABELS = {UnitKind.DISTRICT: "区综治中心", UnitKind.TOWN: "镇街", UnitKind.VILLAGE: "村社区", UnitKind.GRID: "网格",
               UnitKind.DEPARTMENT: "职能部门", UnitKind.COMMITTEE: "调解委员会"}


def bj(at: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """北京时间 — every instant is shown as the center reads it."""
    if at is None:
        return "—"
    if at.tzinfo is None:
        at = at.replace(tzinfo=timezone.utc)
    return at.astimezone(BEIJING).strftime(fmt)


def step_label(step) -> str:
    try:
        return STEP_LABELS[Step(getattr(step, "value", step))]
    except ValueError:
        return str(step)


def event_label(kind) -> str:
    try:
        return EVENT_LABELS[EventKind(getattr(kind, "value", kind))]
    except ValueError:
        return str(kind)


def role_label(role) -> str:
    try:
        return ROLE_LABELS[Role(getattr(role, "value", role))]
    except ValueError:
        return str(role)


def verdict_label(v) -> str:
    return VERDICT_LABELS.get(getattr(v, "value", v), "—") if v else "—"


def unit_name(district: District, code: str | None) -> str:
    if not code:
        return "—"
    try:
        return district.unit(code).name
    except UnknownCode:
        return code


def category_name(district: District, code: str | None) -> str:
    if not code:
        return "未分类"
    try:
        return district.category(code).name
    except UnknownCode:
        return code


def level_label(level) -> str:
    return f"{int(level)}级" if level else "—"


def duration_label(d) -> str:
    return str(d) if d else "—"


templates.env.filters.update(bj=bj, step_label=step_label, event_label=event_label, role_label=role_label,
                             verdict_label=verdict_label, level_label=level_label, duration_label=duration_label)
templates.env.globals.update(CHANNEL_LABELS=CHANNEL_LABELS, LAMPS=LAMPS, TASK_STATUS=TASK_STATUS, AWAITING=AWAITING,
                             TIMERS=TIMERS, DURATION_UNITS=DURATION_UNITS, STEP_LABELS={s.value: label for s, label in STEP_LABELS.items()},
                             KIND_LABELS={k.value: label for k, label in KIND_LABELS.items()},
                             new_key=lambda: uuid.uuid4().hex)  # one Idempotency-Key per rendered form: a re-post applies once


@lru_cache(maxsize=16)
def static_asset(name: str) -> tuple[bytes, str] | None:
    """A file of static/ (bytes, content hash), or None for anything else."""
    path = STATIC / name
    if "/" in name or name.startswith(".") or path.suffix not in STATIC_TYPES or not path.is_file():
        return None
    raw = path.read_bytes()
    return raw, hashlib.sha256(raw).hexdigest()[:16]


def render(request: Request, name: str, p: Principal | None, district: District | None = None,
           status_code: int = 200, **context):
    """A page with the viewer, the navigation it may use and the flash message of the last action."""
    nav = []
    if p is not None:
        if p.role in BOARD_ROLES:
            nav.append(("/ui/board", "案件看板"))
        nav.append(("/ui/inbox", "任务收件箱"))
        if p.role in CENTER_ROLES:
            nav.append(("/ui/stats", "考核统计"))
    helpers = {}
    if district is not None:
        helpers = dict(unit_name=lambda c: unit_name(district, c), category_name=lambda c: category_name(district, c))
    ctx = dict(viewer=p, nav=nav, ok=request.query_params.get("ok"), error=request.query_params.get("error"),
               path=request.url.path, css_version=(static_asset("style.css") or (b"", "0"))[1], **helpers, **context)
    return templates.TemplateResponse(request, name, ctx, status_code=status_code)


def denied(request: Request, p: Principal | None, message: str, status: int = 403):
    title = {403: "无权访问", 404: "未找到"}.get(status, "暂时无法显示")
    return render(request, "error.html", p, status_code=status, title=title, message=message)
