"""考核统计 in SQL — one GROUP BY per report over the projection, the same on SQLite and PostgreSQL.

Each query returns :class:`api.statistics.Sums` per raw group key (unit, grid, category, channel or
Beijing-time day); ``api/statistics.py`` folds grids into towns and days into weeks, months and
quarters (a few hundred keys at most) and turns counts into rates. Everything that does not depend
on the statistics instant is precomputed by the projection (``overdue_at``, ``final_verdict``,
``handling_seconds``, ``reported_day``), so the only comparison with "now" is a deadline.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, case, func, or_, select
from sqlmodel import Session

from api.statistics import Sums
from domain.accounting import Outcome
from domain.vocabulary import OPEN_STEPS, Verdict
from store.tables import AssignmentRow, CaseRow

EVALUATED = [Verdict.SATISFIED.value, Verdict.BASICALLY_SATISFIED.value, Verdict.DISSATISFIED.value]
SATISFIED = [Verdict.SATISFIED.value, Verdict.BASICALLY_SATISFIED.value]
OPEN = [step.value for step in OPEN_STEPS]
CASE_KEYS = {
    "area": CaseRow.grid,
    "category": CaseRow.category,
    "channel": CaseRow.channel,
    "period": CaseRow.reported_day,
}


def _count(condition):
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _total(column):
    return func.coalesce(func.sum(column), 0)


def _window(stmt, reported_from: datetime | None, reported_to: datetime | None):
    if reported_from is not None:
        stmt = stmt.where(CaseRow.reported_at >= reported_from)
    if reported_to is not None:
        stmt = stmt.where(CaseRow.reported_at < reported_to)
    return stmt


def _sums(row) -> Sums:
    values = row._asdict()
    values.pop("key")
    return Sums(**{name: float(value) if name == "handling_seconds" else int(value) for name, value in values.items()})


def case_sums(
    session: Session, by: str, reported_from: datetime | None, reported_to: datetime | None, now: datetime
) -> list[tuple[str | None, Sums]]:
    """Case-based counts per ``by`` (area → grid, category, channel, period → day)."""
    closed = CaseRow.completed_at.is_not(None)
    overdue = or_(CaseRow.overdue_at.is_not(None), and_(CaseRow.step.in_(OPEN), CaseRow.deadline < now))
    key = CASE_KEYS[by]
    stmt = select(
        key.label("key"),
        func.count().label("received"),
        _count(CaseRow.accepted_at.is_not(None)).label("accepted"),
        _count(closed).label("closed"),
        _count(and_(closed, CaseRow.overdue_at.is_(None))).label("closed_on_time"),
        _count(or_(closed, overdue)).label("due"),
        _count(overdue).label("overdue"),
        _total(CaseRow.returns).label("returned"),
        _total(CaseRow.escalations).label("escalated"),
        (_total(CaseRow.reworks) + _total(CaseRow.reopens)).label("reworked"),
        _total(CaseRow.extensions).label("extended"),
        _count(CaseRow.final_verdict.in_(EVALUATED)).label("evaluated"),
        _count(CaseRow.final_verdict.in_(SATISFIED)).label("satisfied"),
        _total(case((closed, CaseRow.handling_seconds), else_=None)).label("handling_seconds"),
        _count(and_(closed, CaseRow.handling_seconds.is_not(None))).label("handled"),
    ).group_by(key)
    return [(row.key, _sums(row)) for row in session.execute(_window(stmt, reported_from, reported_to))]


def unit_sums(
    session: Session, reported_from: datetime | None, reported_to: datetime | None, now: datetime
) -> list[tuple[str | None, Sums]]:
    """Assignment-based counts per lead unit (主办), over cases reported in the window."""
    held = and_(AssignmentRow.outcome.is_(None), AssignmentRow.completed_at.is_(None))
    overdue = or_(AssignmentRow.overdue_at.is_not(None), and_(held, AssignmentRow.deadline < now))
    closed = AssignmentRow.closed.is_(True)
    stmt = (
        select(
            AssignmentRow.unit.label("key"),
            func.count().label("assigned"),
            _count(closed).label("closed"),
            _count(and_(closed, AssignmentRow.overdue_at.is_(None))).label("closed_on_time"),
            _count(or_(closed, overdue)).label("due"),
            _count(overdue).label("overdue"),
            _count(AssignmentRow.outcome == Outcome.RETURNED.value).label("returned"),
            _count(AssignmentRow.outcome == Outcome.ESCALATED.value).label("escalated"),
            _total(AssignmentRow.reworks).label("reworked"),
            _total(AssignmentRow.extensions).label("extended"),
            _count(AssignmentRow.verdict.in_(EVALUATED)).label("evaluated"),
            _count(AssignmentRow.verdict.in_(SATISFIED)).label("satisfied"),
            _total(AssignmentRow.handling_seconds).label("handling_seconds"),
            _count(AssignmentRow.handling_seconds.is_not(None)).label("handled"),
        )
        .join(CaseRow, CaseRow.case_code == AssignmentRow.case_code)
        .where(AssignmentRow.lead.is_(True))
        .group_by(AssignmentRow.unit)
    )
    return [(row.key, _sums(row)) for row in session.execute(_window(stmt, reported_from, reported_to))]
