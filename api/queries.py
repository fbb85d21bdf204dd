"""Reads shared by the routes: case summaries from the projection, masked reports, live state."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import Session, select

from api import masking
from api.errors import ApiError, not_found
from api.schemas import Ack, CaseSummary, ReportView
from domain.district import District, UnknownCode
from domain.messages import UpdateAck
from domain.vocabulary import LOCAL_TZ, STEP_LABELS, Step, UnitKind, is_overdue
from store.db import Database
from store.tables import CaseRow, Report

YEARS = range(2000, 2100)  # query times outside these years are input errors, not dates to compute with


def aware(at: datetime | None) -> datetime | None:
    """Query times without an offset are Beijing time, as people at the center mean them.
    Times outside 2000–2099 answer 422 (year 1 or 9999 would overflow date arithmetic)."""
    if at is None:
        return None
    if at.year not in YEARS:
        raise ApiError(422, "InvalidInput", f"时间超出范围（{YEARS.start}–{YEARS.stop - 1} 年）：{at.isoformat()}")
    return at.replace(tzinfo=LOCAL_TZ) if at.tzinfo is None else at


def summary(row: CaseRow, now: datetime | None = None) -> CaseSummary:
    now = now or datetime.now(UTC)
    return CaseSummary(
        case_code=row.case_code,
        channel=row.channel,
        grid=row.grid,
        step=row.step,
        step_label=STEP_LABELS[Step(row.step)],
        category=row.category,
        level=row.level,
        lamp=row.lamp,
        lead_unit=row.lead_unit,
        co_units=row.co_units or [],
        deadline=row.deadline,
        overdue=is_overdue(row.step, row.deadline, row.completed_at, now),
        returns=row.returns,
        reworks=row.reworks,
        extensions=row.extensions,
        verdict=row.verdict,
        reported_at=row.reported_at,
        closed_at=row.closed_at,
    )


def report_view(report: Report, full: bool) -> ReportView:
    """The report as the caller may see it: masked, the description scrubbed of numbers and the
    reporter's name, unless ``full`` (see :func:`api.reads.unmask_reason`)."""
    return ReportView(
        name=report.name if full else masking.name(report.name),
        phone=report.phone if full else masking.phone(report.phone),
        address=report.address if full else masking.address(report.address),
        description=report.description if full else masking.free_text(report.description, names=[report.name]),
        photos=report.photos or [],
        masked=not full,
    )


def report_or_404(session: Session, code: str) -> Report:
    report = session.exec(select(Report).where(Report.case_code == code)).first()
    if report is None:
        raise not_found(f"案件 {code} ")
    return report


def load_case(db: Database, code: str) -> tuple[Report, CaseRow | None]:
    """The report (404 if unknown) and its projected row; blocking: async callers use ``db.run``."""
    with db.reading() as session:
        return report_or_404(session, code), session.get(CaseRow, code)


def require_codes(district: District, units=(), categories=(), grids=()) -> None:
    """422 for a unit, category or grid code the district does not define."""
    try:
        for code in units:
            district.unit(code)
        for code in categories:
            district.category(code)
        for code in grids:
            if district.unit(code).kind != UnitKind.GRID:
                raise UnknownCode(f"{code} 不是网格")
    except UnknownCode as err:
        raise ApiError(422, "UnknownCode", str(err)) from None


def ack(a: UpdateAck) -> Ack:
    return Ack(case_code=a.case_code, step=a.step.value, seq=a.seq)
