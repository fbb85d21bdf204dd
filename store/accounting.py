"""考核记账 in the database: a case's assignments recounted from its projected timeline and tasks.

The projection calls :func:`recount` in the transaction that writes a transition; :func:`recount_all`
rebuilds every case (``closeloop stats rebuild``), e.g. after an upgrade that added the table.
The rules themselves are pure, in ``domain/accounting.py``.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select, update
from sqlmodel import Session

from domain.accounting import Entry, TaskRecord, assignments_of, first_overdue
from store.tables import AssignmentRow, CaseRow, TaskRow, TimelineRow

ROW_FIELDS = (
    "lead",
    "started_at",
    "deadline",
    "ended_at",
    "outcome",
    "completed_at",
    "closed",
    "overdue_at",
    "worst_lamp",
    "extensions",
    "reworks",
    "urges",
    "supervised",
    "verdict",
    "handling_seconds",
)


def recount(session: Session, insert: Callable, case_code: str) -> None:
    """Rewrite ``case_code``'s assignment rows and its ``overdue_at`` from what is projected."""
    verdict = session.execute(select(CaseRow.final_verdict).where(CaseRow.case_code == case_code)).scalar()
    timeline = session.execute(
        select(TimelineRow.seq, TimelineRow.at, TimelineRow.kind, TimelineRow.unit).where(
            TimelineRow.case_code == case_code
        )
    ).all()
    tasks = session.execute(
        select(TaskRow.assignment, TaskRow.unit, TaskRow.lead, TaskRow.deadline).where(TaskRow.case_code == case_code)
    ).all()
    rows = assignments_of(
        [Entry(seq, at, kind, unit) for seq, at, kind, unit in timeline],
        [TaskRecord(assignment, unit, lead, deadline) for assignment, unit, lead, deadline in tasks],
        verdict,
    )
    if rows:
        values = [
            dict(
                case_code=case_code,
                assignment=row.assignment,
                unit=row.unit,
                **{name: getattr(row, name) for name in ROW_FIELDS},
            )
            | {"outcome": row.outcome.value if row.outcome else None}
            for row in rows
        ]
        stmt = insert(AssignmentRow).values(values)
        session.execute(
            stmt.on_conflict_do_update(
                index_elements=["case_code", "assignment", "unit"],
                set_={name: stmt.excluded[name] for name in ROW_FIELDS},
            )
        )
    session.execute(update(CaseRow).where(CaseRow.case_code == case_code).values(overdue_at=first_overdue(rows)))


def recount_all(db, batch: int = 200, progress: Callable[[int, int], None] | None = None) -> int:
    """Recount every projected case, ``batch`` cases per transaction; returns how many."""
    with db.reading() as session:
        codes = list(session.execute(select(CaseRow.case_code).order_by(CaseRow.case_code)).scalars())
    if progress:
        progress(0, len(codes))
    for start in range(0, len(codes), batch):
        with db.writing() as session:
            for code in codes[start : start + batch]:
                recount(session, db.upsert, code)
        if progress:
            progress(min(start + batch, len(codes)), len(codes))
    return len(codes)
