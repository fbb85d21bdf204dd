"""读取 — what the JSON routes and the web pages read, in one place.

A route parses its query string, a page its form, both into the same arguments here, so a page
shows exactly what the API answers the same caller: the same filters, the same unit restrictions,
the same masking of personal data. Plain functions are blocking (``def`` routes run them in the
thread pool); ``case_detail`` awaits Temporal and holds no connection while it does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from sqlalchemy import func, or_
from sqlmodel import Session, select

from api import audit, masking, scope
from api.auth import Principal
from api.deps import AppState
from api.errors import ApiError
from api.queries import aware, load_case, report_view, summary
from api.schemas import CaseDetail, CaseSummary, Page, TaskItem
from api.updates import live_view
from domain.district import District, UnknownCode
from domain.labels import ROLE_LABELS
from domain.vocabulary import CENTER_ROLES, OPEN_STEPS, Channel, Step, TaskStatus, UnitKind
from store.tables import CaseRow, Report, TaskRow

ACTIVE_TASKS = (TaskStatus.OPEN.value, TaskStatus.SIGNED.value)
TaskFilter = TaskStatus | Literal["active", "all"]
Lamp = Literal["green", "yellow", "red"]


@dataclass(frozen=True)
class CaseFilter:
    """案件筛选 — what the case list filters by; a value left empty is no filter."""

    step: Step | None = None
    unit: str | None = None
    area: str | None = None
    level: int | None = None
    overdue: bool | None = None
    channel: Channel | None = None
    reported_from: datetime | None = None
    reported_to: datetime | None = None
    q: str | None = None
    order: Literal["deadline", "reported"] = "reported"


def _grids_in(district, area: str) -> list[str]:
    try:
        district.unit(area)
    except UnknownCode as err:
        raise ApiError(422, "UnknownCode", str(err)) from None
    grids = [u.code for u in district.units if u.kind == UnitKind.GRID]
    return [
        g for g in grids if g == area or any(a and a.code == area for a in (district.ancestor(g, k) for k in UnitKind))
    ]


def case_page(session: Session, district: District, viewer: Principal, filters: CaseFilter, page: int, size: int):
    """案件列表 — supervisors see every case; unit staff only cases their unit leads."""
    stmt = select(CaseRow).join(Report, Report.case_code == CaseRow.case_code)
    allowed = scope.list_condition(viewer, district)
    if allowed is not None:
        stmt = stmt.where(allowed)
    now = datetime.now(UTC)
    f = filters
    reported_from, reported_to = aware(f.reported_from), aware(f.reported_to)
    conditions = [  # a filter left empty (``unit=``) is no filter
        (f.step, lambda: CaseRow.step == f.step.value),
        (f.unit, lambda: CaseRow.lead_unit == f.unit),
        (f.level, lambda: CaseRow.level == f.level),
        (f.channel, lambda: CaseRow.channel == f.channel.value),
        (reported_from, lambda: CaseRow.reported_at >= reported_from),
        (reported_to, lambda: CaseRow.reported_at < reported_to),
    ]
    stmt = stmt.where(*[condition() for value, condition in conditions if value])
    if f.area:
        stmt = stmt.where(CaseRow.grid.in_(_grids_in(district, f.area)))
    if f.overdue is not None:
        # coalesce: a case without deadline or completion makes these comparisons NULL, not false
        late = func.coalesce(
            or_(
                CaseRow.step.in_([step.value for step in OPEN_STEPS]) & (CaseRow.deadline < now),
                CaseRow.completed_at > CaseRow.deadline,
            ),
            False,
        )
        stmt = stmt.where(late if f.overdue else ~late)
    if f.q:
        stmt = stmt.where(Report.description.contains(f.q))
    total = session.exec(select(func.count()).select_from(stmt.subquery())).one()
    ordering = (
        (CaseRow.deadline.is_(None), CaseRow.deadline) if f.order == "deadline" else (CaseRow.reported_at.desc(),)
    )
    rows = session.exec(stmt.order_by(*ordering, CaseRow.case_code).offset((page - 1) * size).limit(size)).all()
    return Page(items=[summary(r, now) for r in rows], total=total, page=page, size=size)


def unmask_reason(viewer: Principal, pii_roles, case: scope.CaseScope) -> str | None:
    """Why the viewer may see the reporter unmasked (written to the audit), or None: masked."""
    if viewer.role in pii_roles:
        return f"角色：{ROLE_LABELS[viewer.role]}"
    if scope.holds(viewer, case):
        return f"承办单位办理中：{viewer.unit}"
    return None


async def case_detail(s: AppState, code: str, viewer: Principal, via: str) -> CaseDetail:
    """案件详情 — the projected row, the report (masked unless the viewer needs it) and the live state.
    Out of the viewer's scope: 403 before Temporal is asked anything."""
    report, row = await s.db.run(load_case, s.db, code)  # one read for the scope, the mask and the summary
    case = scope.of(code, report.grid, row)
    scope.check(viewer, s.district, case)
    why = unmask_reason(viewer, s.settings.pii_roles, case)
    if why:
        await s.db.run(audit.record, s.db, viewer, code, why, via)
    live = await live_view(s, code) if report.workflow_started else None  # null while queued
    base = summary(row) if row else None
    return CaseDetail(summary=base or _pending(report), report=report_view(report, why is not None), workflow=live)


def _pending(report: Report) -> CaseSummary:
    return CaseSummary(
        case_code=report.case_code,
        channel=report.channel,
        grid=report.grid,
        step="collect",
        step_label="信息采集",
        category=report.category_hint,
        level=None,
        lamp="green",
        lead_unit=None,
        co_units=[],
        deadline=None,
        overdue=False,
        returns=0,
        reworks=0,
        extensions=0,
        verdict=None,
        reported_at=report.received_at,
        closed_at=None,
    )


def unit_tasks(
    session: Session, viewer: Principal, unit: str, status: TaskFilter, lamp: Lamp | None, page: int, size: int
):
    """Tasks of one unit, most urgent first: for its own staff and the center only."""
    scope.check_inbox(viewer, unit)
    q = (
        select(TaskRow, CaseRow, func.substr(Report.description, 1, 200), Report.name)
        .join(CaseRow, CaseRow.case_code == TaskRow.case_code)
        .join(Report, Report.case_code == TaskRow.case_code)
        .where(TaskRow.unit == unit)
    )
    if status == "active":
        q = q.where(TaskRow.status.in_(ACTIVE_TASKS), TaskRow.assignment == CaseRow.assignment)
    elif status != "all":
        q = q.where(TaskRow.status == TaskStatus(status).value)
    if lamp:
        q = q.where(CaseRow.lamp == lamp)
    total = session.exec(select(func.count()).select_from(q.subquery())).one()
    rows = session.exec(
        q.order_by(TaskRow.deadline.is_(None), TaskRow.deadline, TaskRow.id).offset((page - 1) * size).limit(size)
    ).all()
    items = [
        TaskItem(
            case_code=t.case_code,
            assignment=t.assignment,
            unit=t.unit,
            lead=t.lead,
            status=t.status,
            deadline=t.deadline,
            lamp=c.lamp,
            step=c.step,
            category=c.category,
            level=c.level,
            description=d if viewer.role in CENTER_ROLES else masking.free_text(d, names=[name]),
        )
        for t, c, d, name in rows
    ]
    return Page(items=items, total=total, page=page, size=size)
