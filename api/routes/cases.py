"""综治中心 — list and inspect cases, and every supervisor action on them."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Literal

from fastapi import APIRouter, Query
from sqlalchemy import func, or_
from sqlmodel import select

from api.deps import DistrictDep, SessionDep, StaffDep, StateDep, SupervisorDep, VerifierDep
from api.errors import ApiError, not_found
from api.queries import ack, aware, load_case, report_or_404, report_view, require_codes, summary
from api.updates import IdempotencyKey, apply, live_view
from api.schemas import (
    Ack,
    CaseDetail,
    CaseSummary,
    DecisionBody,
    DuplicateBody,
    NoteBody,
    Page,
    ReasonBody,
    ReassignBody,
    RegisterBody,
    VerifyBody,
)
from domain.district import UnknownCode
from domain.limits import CODE_MAX, PAGE_MAX
from domain.messages import (
    CloseCase,
    Decline,
    ExtensionDecision,
    MarkDuplicate,
    Reassign,
    Registration,
    SupervisorAction,
    Verification,
)
from domain.vocabulary import Channel, Role, Step, UnitKind
from store.tables import CaseRow, Report
from workflows.complaint import ComplaintWorkflow

router = APIRouter(prefix="/cases", tags=["supervision"])


def _grids_in(district, area: str) -> list[str]:
    try:
        district.unit(area)
    except UnknownCode as err:
        raise ApiError(422, "UnknownCode", str(err)) from None
    grids = [u.code for u in district.units if u.kind == UnitKind.GRID]
    return [g for g in grids if g == area or any(a and a.code == area for a in (district.ancestor(g, k) for k in UnitKind))]


@router.get("", response_model=Page[CaseSummary], summary="案件列表（筛选、分页）")
def list_cases(p: StaffDep, session: SessionDep, district: DistrictDep,
               step: Step | None = None, unit: str | None = Query(None, max_length=CODE_MAX),
               area: str | None = Query(None, max_length=CODE_MAX, description="镇街/村社/网格编码"),
               level: int | None = Query(None, ge=1, le=3), overdue: bool | None = None, channel: Channel | None = None,
               reported_from: datetime | None = None, reported_to: datetime | None = None,
               q: str | None = Query(None, max_length=100, description="诉求描述全文检索"),
               order: Literal["deadline", "reported"] = "reported",
               page: int = Query(1, ge=1, le=PAGE_MAX), size: int = Query(20, ge=1, le=200)):
    """Supervisors see every case; unit staff only cases their unit leads."""
    stmt = select(CaseRow).join(Report, Report.case_code == CaseRow.case_code)
    if p.role == Role.UNIT_STAFF:
        stmt = stmt.where(CaseRow.lead_unit == p.unit)
    now = datetime.now(timezone.utc)
    reported_from, reported_to = aware(reported_from), aware(reported_to)
    filters = [  # a filter left empty (``unit=``) is no filter
        (step, lambda: CaseRow.step == step.value), (unit, lambda: CaseRow.lead_unit == unit),
        (level, lambda: CaseRow.level == level), (channel, lambda: CaseRow.channel == channel.value),
        (reported_from, lambda: CaseRow.reported_at >= reported_from), (reported_to, lambda: CaseRow.reported_at < reported_to),
    ]
    stmt = stmt.where(*[condition() for value, condition in filters if value])
    if area:
        stmt = stmt.where(CaseRow.grid.in_(_grids_in(district, area)))
    if overdue is not None:
        # coalesce: a case without deadline or completion makes these comparisons NULL, not false
        late = func.coalesce(or_(CaseRow.step.in_(("dispatch", "handle")) & (CaseRow.deadline < now),
                                 CaseRow.completed_at > CaseRow.deadline), False)
        stmt = stmt.where(late if overdue else ~late)
    if q:
        stmt = stmt.where(Report.description.contains(q))
    total = session.exec(select(func.count()).select_from(stmt.subquery())).one()
    ordering = (CaseRow.deadline.is_(None), CaseRow.deadline) if order == "deadline" else (CaseRow.reported_at.desc(),)
    rows = session.exec(stmt.order_by(*ordering, CaseRow.case_code).offset((page - 1) * size).limit(size)).all()
    return Page(items=[summary(r, now) for r in rows], total=total, page=page, size=size)


@router.get("/{code}", response_model=CaseDetail, summary="案件详情（实时状态与时间线）")
async def detail(code: str, p: StaffDep, s: StateDep):
    report, row = await s.db.run(load_case, s.db, code)
    if p.role == Role.UNIT_STAFF and (row is None or (row.lead_unit != p.unit and p.unit not in (row.co_units or []))):
        raise ApiError(403, "WrongUnit", "只能查看本单位承办的案件")
    live = await live_view(s, code) if report.workflow_started else None
    if row is None and live is None:
        raise not_found(f"案件 {code} ")
    base = summary(row) if row else None
    return CaseDetail(summary=base or _pending(report), report=report_view(report, p, s.settings.pii_roles), workflow=live)


def _pending(report: Report) -> CaseSummary:
    return CaseSummary(case_code=report.case_code, channel=report.channel, grid=report.grid, step="collect", step_label="信息采集",
                       category=report.category_hint, level=None, lamp="green", lead_unit=None, co_units=[], deadline=None,
                       overdue=False, returns=0, reworks=0, extensions=0, verdict=None, reported_at=report.received_at, closed_at=None)


@router.post("/{code}/register", response_model=Ack, summary="立案（分类、分级），随后自动派遣")
async def register(code: str, body: RegisterBody, p: SupervisorDep, s: StateDep, key: IdempotencyKey):
    require_codes(s.district, units=body.co_units or [], categories=[body.category])
    arg = Registration(actor=p.actor(), category=body.category, level=body.level, co_units=body.co_units)
    return ack(await apply(s, code, ComplaintWorkflow.register, arg, key))


@router.post("/{code}/decline", response_model=Ack, summary="不予受理")
async def decline(code: str, body: ReasonBody, p: SupervisorDep, s: StateDep, key: IdempotencyKey):
    return ack(await apply(s, code, ComplaintWorkflow.decline, Decline(actor=p.actor(), reason=body.reason), key))


@router.post("/{code}/duplicate", response_model=Ack, summary="重复件：关联到主案")
async def duplicate(code: str, body: DuplicateBody, p: SupervisorDep, s: StateDep, key: IdempotencyKey):
    await s.db.run(load_case, s.db, body.primary)  # 404 for an unknown primary
    arg = MarkDuplicate(actor=p.actor(), primary=body.primary)
    return ack(await apply(s, code, ComplaintWorkflow.mark_duplicate, arg, key))


@router.post("/{code}/urge", response_model=Ack, summary="催办（一小时内不重复）")
async def urge(code: str, body: NoteBody, p: SupervisorDep, s: StateDep, key: IdempotencyKey):
    arg = SupervisorAction(actor=p.actor(), note=body.note)
    return ack(await apply(s, code, ComplaintWorkflow.urge_unit, arg, key))


@router.post("/{code}/reassign", response_model=Ack, summary="改派 / 指定承办单位（可设为不可退单）")
async def reassign(code: str, body: ReassignBody, p: SupervisorDep, s: StateDep, key: IdempotencyKey):
    require_codes(s.district, units=[body.unit, *body.co_units])
    arg = Reassign(actor=p.actor(), unit=body.unit, co_units=body.co_units, binding=body.binding, note=body.note)
    return ack(await apply(s, code, ComplaintWorkflow.reassign, arg, key))


@router.post("/{code}/escalate", response_model=Ack, summary="提级督办")
async def escalate(code: str, body: NoteBody, p: SupervisorDep, s: StateDep, key: IdempotencyKey):
    arg = SupervisorAction(actor=p.actor(), note=body.note)
    return ack(await apply(s, code, ComplaintWorkflow.escalate, arg, key))


@router.post("/{code}/extension/decision", response_model=Ack, summary="审批延期申请")
async def decide_extension(code: str, body: DecisionBody, p: SupervisorDep, s: StateDep, key: IdempotencyKey):
    arg = ExtensionDecision(actor=p.actor(), approve=body.approve, note=body.note)
    return ack(await apply(s, code, ComplaintWorkflow.decide_extension, arg, key))


@router.post("/{code}/verify", response_model=Ack, summary="反馈核查：通过或返工")
async def verify(code: str, body: VerifyBody, p: VerifierDep, s: StateDep, key: IdempotencyKey):
    arg = Verification(actor=p.actor(), passed=body.passed, note=body.note, photos=body.photos)
    return ack(await apply(s, code, ComplaintWorkflow.verify, arg, key))


@router.post("/{code}/reopen", response_model=Ack, summary="不满意案件重新办理")
async def reopen(code: str, body: NoteBody, p: SupervisorDep, s: StateDep, key: IdempotencyKey):
    arg = SupervisorAction(actor=p.actor(), note=body.note)
    return ack(await apply(s, code, ComplaintWorkflow.reopen, arg, key))


@router.post("/{code}/close", response_model=Ack, summary="结案（说明理由）")
async def close(code: str, body: ReasonBody, p: SupervisorDep, s: StateDep, key: IdempotencyKey):
    return ack(await apply(s, code, ComplaintWorkflow.close, CloseCase(actor=p.actor(), reason=body.reason), key))
