"""个人信息查阅记录 — every time a reporter's name, phone or address is shown unmasked, who saw it,
when, through what, and by which rule. Supervisors list it at ``GET /audit``."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func
from sqlmodel import Session, select

from api.auth import Principal
from api.schemas import AuditEntry, Page
from store.accounts import AuditRow
from store.db import Database

UNMASKED = "姓名、电话、地址"


def record(db: Database, viewer: Principal, code: str, why: str, via: str) -> None:
    """Write one audit row. Blocking."""
    with db.writing() as session:
        session.add(
            AuditRow(
                at=datetime.now(UTC),
                user=viewer.user,
                role=viewer.role.value,
                unit=viewer.unit,
                case_code=code,
                what=UNMASKED,
                why=why,
                via=via[:200],
            )
        )


def audit_page(session: Session, case_code: str | None, user: str | None, page: int, size: int) -> Page[AuditEntry]:
    stmt = select(AuditRow)
    if case_code:
        stmt = stmt.where(AuditRow.case_code == case_code)
    if user:
        stmt = stmt.where(AuditRow.user == user)
    total = session.exec(select(func.count()).select_from(stmt.subquery())).one()
    rows = session.exec(stmt.order_by(AuditRow.at.desc(), AuditRow.id.desc()).offset((page - 1) * size).limit(size))
    items = [AuditEntry.model_validate(row, from_attributes=True) for row in rows]
    return Page(items=items, total=total, page=page, size=size)
