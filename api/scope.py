"""可见范围 — which cases a person may list, read and act on, decided here and nowhere else.

- 综治中心 (supervisor, admin): every case.
- 核查员 (verifier): cases reported in their area — their grid, or every grid under the town or
  village their account is bound to.
- 承办单位 (unit staff): cases of their unit's current assignment, as lead (主办) or co-unit (会办).

A case outside the caller's scope answers 403 before anything else is looked at, so its step (and
whether an action would fit it) is never revealed. Personal data follows the same holding rule:
the units holding a case see the reporter's full address and phone while they hold it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import exists, false
from sqlmodel import select

from api.auth import Principal
from api.errors import ApiError, not_found
from domain.district import District
from domain.vocabulary import CENTER_ROLES, OPEN_STEPS, Role, Step, UnitKind
from store.db import Database
from store.tables import CaseRow, Report, TaskRow


@dataclass(frozen=True)
class CaseScope:
    """What scope rules need to know of one case."""

    case_code: str
    grid: str
    lead_unit: str | None
    co_units: tuple[str, ...]
    open: bool

    def units(self) -> tuple[str, ...]:
        """The units of the current assignment: lead and co-units."""
        return tuple(u for u in (self.lead_unit, *self.co_units) if u)


def case_scope(db: Database, code: str) -> CaseScope:
    """The case's grid and holders (404 for an unknown code). Blocking."""
    with db.reading() as session:
        report = session.exec(select(Report.grid).where(Report.case_code == code)).first()
        row = session.get(CaseRow, code)
    if report is None:
        raise not_found(f"案件 {code} ")
    return of(code, report, row)


def of(code: str, grid: str, row: CaseRow | None) -> CaseScope:
    """The scope facts of a report's grid and its projected row, already read."""
    if row is None:  # stored, not projected yet: no unit holds it
        return CaseScope(code, grid, None, (), True)
    return CaseScope(code, row.grid, row.lead_unit, tuple(row.co_units or ()), Step(row.step) in OPEN_STEPS)


def area_grids(district: District, area: str) -> list[str]:
    return [u.code for u in district.units if u.kind == UnitKind.GRID and district.covers(area, u.code)]


def may_see(viewer: Principal, district: District, case: CaseScope) -> bool:
    if viewer.role in CENTER_ROLES:
        return True
    if viewer.role == Role.VERIFIER:
        return bool(viewer.unit) and district.covers(viewer.unit, case.grid)
    if viewer.role == Role.UNIT_STAFF:
        return viewer.unit in case.units()
    return False


def check(viewer: Principal, district: District, case: CaseScope) -> None:
    if not may_see(viewer, district, case):
        raise ApiError(403, "OutOfScope", f"案件 {case.case_code} 不在您的办理范围内")


def holds(viewer: Principal, case: CaseScope) -> bool:
    """需要知道: a unit holding the case sees the reporter's full address and phone."""
    return viewer.role == Role.UNIT_STAFF and case.open and viewer.unit in case.units()


def list_condition(viewer: Principal, district: District):
    """The SQL condition on ``CaseRow`` for the cases ``viewer`` may list (None: all of them)."""
    if viewer.role in CENTER_ROLES:
        return None
    if viewer.role == Role.VERIFIER and viewer.unit:
        return CaseRow.grid.in_(area_grids(district, viewer.unit))
    if viewer.role == Role.UNIT_STAFF and viewer.unit:
        task = select(TaskRow.id).where(
            TaskRow.case_code == CaseRow.case_code,
            TaskRow.assignment == CaseRow.assignment,
            TaskRow.unit == viewer.unit,
        )
        return (CaseRow.lead_unit == viewer.unit) | exists(task)
    return false()


def check_inbox(viewer: Principal, unit: str) -> None:
    """A unit's task inbox: its own staff and the center."""
    if viewer.role in CENTER_ROLES or (viewer.role == Role.UNIT_STAFF and viewer.unit == unit):
        return
    raise ApiError(403, "OutOfScope", "只能查看本单位的任务")
