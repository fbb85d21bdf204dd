"""案件投影 — write the workflow's state into the database for lists, search and statistics.

Idempotent: timeline entries and evaluations are keyed by (case, seq), tasks by
(case, assignment, unit), notices by (case, key), and the case row only moves forward
(``last_seq``), so a retried or late attempt never writes twice or overwrites newer state.

The notices a transition asks for are written in the same transaction as the timeline that
caused them (a transactional outbox): one activity per transition, and a notice exists exactly
when its cause is on record. A sender drains the outbox.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlmodel import Session
from temporalio import activity

from domain.accounting import ACCOUNTING_KINDS, standing_verdict
from domain.commands import Notice, ProjectionInput
from domain.messages import CaseView
from domain.vocabulary import LOCAL_TZ, Awaiting, EventKind
from store.accounting import recount
from store.db import Database
from store.tables import CaseRow, EvaluationRow, OutboxRow, TaskRow, TimelineRow

VISIT_KINDS = {EventKind.EVALUATED: "evaluation", EventKind.VISITED: "visit"}


def write_notices(session: Session, insert, notices: list[Notice]) -> None:
    if not notices:
        return
    now = datetime.now(UTC)
    session.execute(
        insert(OutboxRow)
        .values(
            [
                dict(
                    case_code=n.case_code,
                    key=n.key,
                    audience=n.audience.value,
                    unit=n.unit,
                    kind=n.kind.value,
                    text=n.text,
                    created_at=now,
                )
                for n in notices
            ]
        )
        .on_conflict_do_nothing(index_elements=["case_code", "key"])
    )


def case_row(v: CaseView) -> dict:
    return dict(
        case_code=v.case_code,
        channel=v.channel.value,
        grid=v.grid,
        step=v.step.value,
        category=v.category,
        level=int(v.level) if v.level else None,
        policy_version=v.policy.version if v.policy else None,
        lamp=v.lamp.value,
        lead_unit=v.lead_unit,
        co_units=v.co_units,
        assignment=v.assignment,
        signed=v.signed,
        awaiting=Awaiting.ASSIGNMENT.value if v.awaiting_assignment else v.awaiting.value if v.awaiting else None,
        deadline=v.clock.deadline if v.clock else None,
        yellow_at=v.clock.yellow_at if v.clock else None,
        deadline_estimated=bool(v.clock and v.clock.estimated),
        returns=v.returns,
        reworks=v.reworks,
        extensions=v.extensions,
        escalations=v.escalations,
        reopens=v.reopens,
        verdict=v.verdict.value if v.verdict else None,
        primary_case=v.primary,
        reported_at=v.reported_at,
        accepted_at=v.accepted_at,
        completed_at=v.completed_at,
        closed_at=v.closed_at,
        close_reason=v.close_reason,
        last_seq=v.seq,
        final_verdict=standing_verdict([v.verdict, *v.visits]),
        reported_day=v.reported_at.astimezone(LOCAL_TZ).strftime("%Y-%m-%d"),
        handling_seconds=(v.completed_at - v.accepted_at).total_seconds() if v.completed_at and v.accepted_at else None,
    )


class ProjectionActivities:
    def __init__(self, db: Database) -> None:
        self.db = db

    @activity.defn
    def project(self, inp: ProjectionInput) -> int:
        """Upsert the case row, its tasks, the new timeline entries and their notices; returns the seq written."""
        view, insert = inp.view, self.db.upsert
        row = case_row(view)
        with self.db.writing() as session:
            stmt = insert(CaseRow).values(**row)
            session.execute(
                stmt.on_conflict_do_update(
                    index_elements=["case_code"],
                    set_={k: stmt.excluded[k] for k in row if k != "case_code"},
                    where=CaseRow.last_seq <= stmt.excluded.last_seq,
                )
            )
            current = session.execute(select(CaseRow.last_seq).where(CaseRow.case_code == view.case_code)).scalar_one()
            latest = current == view.seq  # tasks describe this state; an older attempt must not rewrite them
            if latest:
                _write_tasks(session, insert, view)
            _write_timeline(session, insert, view)
            if latest and any(e.kind in ACCOUNTING_KINDS for e in view.timeline):
                recount(session, insert, view.case_code)  # 考核: who is charged, from the whole timeline
            write_notices(session, insert, inp.notices)
        activity.logger.debug("projected %s up to seq %s", view.case_code, view.seq)
        return view.seq


def _write_tasks(session, insert, view: CaseView) -> None:
    for task in view.tasks:
        values = dict(
            case_code=view.case_code,
            assignment=task.assignment,
            unit=task.unit,
            lead=task.lead,
            status=task.status.value,
            deadline=task.deadline,
        )
        stmt = insert(TaskRow).values(**values)
        session.execute(
            stmt.on_conflict_do_update(
                index_elements=["case_code", "assignment", "unit"],
                set_={"status": stmt.excluded.status, "deadline": stmt.excluded.deadline},
            )
        )


def _write_timeline(session, insert, view: CaseView) -> None:
    """New timeline entries and the verdicts among them; keyed by (case, seq), so a retry adds nothing."""
    if not view.timeline:
        return
    entries = [
        dict(
            case_code=view.case_code,
            seq=e.seq,
            at=e.at,
            kind=e.kind.value,
            role=e.role.value,
            unit=e.unit,
            note=e.note,
            user=e.user or None,
        )
        for e in view.timeline
    ]
    session.execute(insert(TimelineRow).values(entries).on_conflict_do_nothing(index_elements=["case_code", "seq"]))
    verdicts = [
        dict(case_code=view.case_code, seq=e.seq, kind=VISIT_KINDS[e.kind], verdict=e.verdict.value, at=e.at)
        for e in view.timeline
        if e.kind in VISIT_KINDS and e.verdict
    ]
    if verdicts:
        session.execute(
            insert(EvaluationRow).values(verdicts).on_conflict_do_nothing(index_elements=["case_code", "seq"])
        )
