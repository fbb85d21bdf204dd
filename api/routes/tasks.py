"""承办单位任务 — a unit's inbox and the actions it takes on its tasks."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query
from sqlalchemy import func
from sqlmodel import select

from api.deps import SessionDep, StaffDep, StateDep, UnitStaffDep
from api.errors import ApiError
from domain.limits import PAGE_MAX
from api.queries import ack
from api.updates import IdempotencyKey, apply
from api.schemas import Ack, CompleteBody, ExtensionBody, NoteBody, Page, ProgressBody, ReasonBody, TaskItem
from domain.messages import Completion, ExtensionRequest, ProgressReport, ReturnTask, UnitAction
from domain.vocabulary import Role
from store.tables import CaseRow, Report, TaskRow
from workflows.complaint import ComplaintWorkflow

router = APIRouter(tags=["tasks"])
ACTIVE = ("open", "signed")


@router.get("/units/{unit}/tasks", response_model=Page[TaskItem], summary="本单位任务列表")
def inbox(unit: str, p: StaffDep, session: SessionDep,
          status: Literal["active", "open", "signed", "done", "returned", "withdrawn", "all"] = "active",
          lamp: Literal["green", "yellow", "red"] | None = None,
          page: int = Query(1, ge=1, le=PAGE_MAX), size: int = Query(20, ge=1, le=200)):
    """Tasks of one unit, most urgent first. Unit staff see only their own unit."""
    if p.role == Role.UNIT_STAFF and p.unit != unit:
        raise ApiError(403, "WrongUnit", "只能查看本单位的任务")
    q = select(TaskRow, CaseRow, Report.description).join(CaseRow, CaseRow.case_code == TaskRow.case_code).join(
        Report, Report.case_code == TaskRow.case_code).where(TaskRow.unit == unit)
    if status == "active":
        q = q.where(TaskRow.status.in_(ACTIVE), TaskRow.assignment == CaseRow.assignment)
    elif status != "all":
        q = q.where(TaskRow.status == status)
    if lamp:
        q = q.where(CaseRow.lamp == lamp)
    total = session.exec(select(func.count()).select_from(q.subquery())).one()
    rows = session.exec(q.order_by(TaskRow.deadline.is_(None), TaskRow.deadline, TaskRow.id).offset((page - 1) * size).limit(size)).all()
    items = [TaskItem(case_code=t.case_code, assignment=t.assignment, unit=t.unit, lead=t.lead, status=t.status,
                      deadline=t.deadline, lamp=c.lamp, step=c.step, category=c.category, level=c.level,
                      description=d[:200]) for t, c, d in rows]
    return Page(items=items, total=total, page=page, size=size)


@router.post("/cases/{code}/sign", response_model=Ack, summary="签收")
async def sign(code: str, body: NoteBody, p: UnitStaffDep, s: StateDep, key: IdempotencyKey):
    return ack(await apply(s, code, ComplaintWorkflow.sign_for, UnitAction(actor=p.actor(), note=body.note), key))


@router.post("/cases/{code}/return", response_model=Ack, summary="退单（说明理由）")
async def return_task(code: str, body: ReasonBody, p: UnitStaffDep, s: StateDep, key: IdempotencyKey):
    return ack(await apply(s, code, ComplaintWorkflow.return_task, ReturnTask(actor=p.actor(), reason=body.reason), key))


@router.post("/cases/{code}/progress", response_model=Ack, summary="反馈办理进展")
async def progress(code: str, body: ProgressBody, p: UnitStaffDep, s: StateDep, key: IdempotencyKey):
    arg = ProgressReport(actor=p.actor(), note=body.note, photos=body.photos)
    return ack(await apply(s, code, ComplaintWorkflow.report_progress, arg, key))


@router.post("/cases/{code}/extension", response_model=Ack, summary="申请延期")
async def extension(code: str, body: ExtensionBody, p: UnitStaffDep, s: StateDep, key: IdempotencyKey):
    arg = ExtensionRequest(actor=p.actor(), extra=body.extra, reason=body.reason)
    return ack(await apply(s, code, ComplaintWorkflow.request_extension, arg, key))


@router.post("/cases/{code}/complete", response_model=Ack, summary="办结（主办）或反馈会办结果")
async def complete(code: str, body: CompleteBody, p: UnitStaffDep, s: StateDep, key: IdempotencyKey):
    arg = Completion(actor=p.actor(), result=body.result, photos=body.photos)
    return ack(await apply(s, code, ComplaintWorkflow.complete_task, arg, key))
