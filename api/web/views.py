"""页面渲染 — the Jinja environment: Beijing times, Chinese labels, lamps, unit and category names."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path

from fastapi import Request
from fastapi.templating import Jinja2Templates

from api.auth import Principal
from api.web.session import BOARD_ROLES
from domain.district import District, UnknownCode
from domain.labels import (
    AWAITING_LABELS,
    CHANNEL_LABELS,
    LAMP_HINTS,
    LAMP_LABELS,
    ROLE_LABELS,
    TASK_STATUS_LABELS,
    TIMER_LABELS,
    UNIT_KIND_LABELS,
    VERDICT_LABELS,
)
from domain.policy import DURATION_UNIT_LABELS
from domain.vocabulary import CENTER_ROLES, EVENT_LABELS, LOCAL_TZ, STEP_LABELS, EventKind, Role, Step

HERE = Path(__file__).parent
STATIC = HERE / "static"
STATIC_TYPES = {
    ".css": "text/css; charset=utf-8",
    ".js": "application/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
}
templates = Jinja2Templates(directory=HERE / "templates")


def bj(at: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """北京时间 — every instant is shown as the center reads it."""
    if at is None:
        return "—"
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return at.astimezone(LOCAL_TZ).strftime(fmt)


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
    return VERDICT_LABELS.get(v, "—") if v else "—"


def unit_name(district: District, code: str | None) -> str:
    return district.unit_name(code) if code else "—"


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


templates.env.filters.update(
    bj=bj,
    step_label=step_label,
    event_label=event_label,
    role_label=role_label,
    verdict_label=verdict_label,
    level_label=level_label,
    duration_label=duration_label,
)
# The templates' names for the label tables of domain/labels.py, keyed by plain values.
templates.env.globals.update(
    CHANNEL_LABELS={c.value: label for c, label in CHANNEL_LABELS.items()},
    LAMPS={lamp.value: (label[0], f"{label}：{LAMP_HINTS[lamp]}") for lamp, label in LAMP_LABELS.items()},
    TASK_STATUS={t.value: label for t, label in TASK_STATUS_LABELS.items()},
    AWAITING={a.value: label for a, label in AWAITING_LABELS.items()},
    TIMERS={t.value: label for t, label in TIMER_LABELS.items()},
    DURATION_UNITS={u.value: label for u, label in DURATION_UNIT_LABELS.items()},
    STEP_LABELS={s.value: label for s, label in STEP_LABELS.items()},
    KIND_LABELS={k.value: label for k, label in UNIT_KIND_LABELS.items()},
    new_key=lambda: uuid.uuid4().hex,  # one Idempotency-Key per rendered form: a re-post applies once
)


@lru_cache(maxsize=16)
def static_asset(name: str) -> tuple[bytes, str] | None:
    """A file of static/ (bytes, content hash), or None for anything else."""
    path = STATIC / name
    if "/" in name or name.startswith(".") or path.suffix not in STATIC_TYPES or not path.is_file():
        return None
    raw = path.read_bytes()
    return raw, hashlib.sha256(raw).hexdigest()[:16]


def render(
    request: Request,
    name: str,
    p: Principal | None,
    district: District | None = None,
    status_code: int = 200,
    **context,
):
    """A page with the viewer, the navigation it may use and the flash message of the last action."""
    nav = []
    if p is not None:
        if p.role in BOARD_ROLES:
            nav.append(("/ui/board", "案件看板"))
        if p.role != Role.VERIFIER:
            nav.append(("/ui/inbox", "任务收件箱"))
        if p.role in CENTER_ROLES:
            nav.append(("/ui/stats", "考核统计"))
        if p.role == Role.ADMIN:
            nav.append(("/ui/admin/users", "账号管理"))
    helpers = {}
    if district is not None:
        helpers = dict(unit_name=lambda c: unit_name(district, c), category_name=lambda c: category_name(district, c))
    ctx = dict(
        viewer=p,
        nav=nav,
        ok=request.query_params.get("ok"),
        error=request.query_params.get("error"),
        path=request.url.path,
        csrf=p.csrf if p is not None else "",
        css_version=(static_asset("style.css") or (b"", "0"))[1],
        **helpers,
        **context,
    )
    return templates.TemplateResponse(request, name, ctx, status_code=status_code)


def denied(request: Request, p: Principal | None, message: str, status: int = 403):
    title = {403: "无权访问", 404: "未找到"}.get(status, "暂时无法显示")
    return render(request, "error.html", p, status_code=status, title=title, message=message)
