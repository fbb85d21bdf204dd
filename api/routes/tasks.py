"""承办单位任务 — a unit's inbox (the actions on its tasks: ``api/routes/actions.py``)."""

from __future__ import annotations

from fastapi import APIRouter, Query

from api import reads
from api.deps import SessionDep, StaffDep
from api.schemas import Page, TaskItem
from domain.limits import PAGE_MAX

router = APIRouter(tags=["tasks"])


@router.get("/units/{unit}/tasks", response_model=Page[TaskItem], summary="本单位任务列表")
def inbox(
    unit: str,
    p: StaffDep,
    session: SessionDep,
    status: reads.TaskFilter = "active",
    lamp: reads.Lamp | None = None,
    page: int = Query(1, ge=1, le=PAGE_MAX),
    size: int = Query(20, ge=1, le=200),
):
    """Tasks of one unit, most urgent first. Unit staff see only their own unit."""
    return reads.unit_tasks(session, p, unit, status, lamp, page, size)
