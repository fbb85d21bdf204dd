"""个人信息查阅记录 — who saw a reporter's unmasked personal data, for the center to review."""

from __future__ import annotations

from fastapi import APIRouter, Query

from api.audit import audit_page
from api.deps import SessionDep, SupervisorDep
from api.schemas import AuditEntry, Page
from domain.limits import PAGE_MAX

router = APIRouter(tags=["supervision"])


@router.get("/audit", response_model=Page[AuditEntry], summary="个人信息查阅记录（谁、何时、为何查看了未脱敏信息）")
def audit(
    p: SupervisorDep,
    session: SessionDep,
    case_code: str | None = Query(None, max_length=40),
    user: str | None = Query(None, max_length=64),
    page: int = Query(1, ge=1, le=PAGE_MAX),
    size: int = Query(50, ge=1, le=200),
):
    """Newest first; filter by case or by person."""
    return audit_page(session, case_code or None, user or None, page, size)
