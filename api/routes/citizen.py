"""群众 — follow a case by its code and the phone's last four digits (or the tracking link's
token); evaluate and answer return visits with that token.

Staff see masked phones that end in the last four digits, so those digits may show progress but
never rate a case: that needs the token only the citizen's tracking link carries. A wrong pair
answers 404 exactly like an unknown code, so codes cannot be probed.
"""

from __future__ import annotations

import hmac
from datetime import UTC, datetime

from fastapi import APIRouter, Query
from sqlmodel import select

from api.deps import StateDep
from api.errors import not_found
from api.queries import ack
from api.schemas import Ack, CitizenVerdict, Progress
from api.updates import IdempotencyKey, apply, live_view
from domain.messages import Actor, Evaluation
from domain.vocabulary import STEP_LABELS, Role, Step
from store.db import Database
from store.tables import CitizenComment, Report
from workflows.complaint import ComplaintWorkflow

router = APIRouter(prefix="/citizen/cases", tags=["citizen"])
CITIZEN = Actor(role=Role.CITIZEN, user="citizen")


def _own(db: Database, code: str, last4: str | None = None, token: str | None = None) -> Report:
    """The citizen's report if the code and proof match (404 otherwise). Blocking."""
    with db.reading() as session:
        report = session.exec(select(Report).where(Report.case_code == code)).first()
    proven = report is not None and (
        (token is not None and hmac.compare_digest(report.citizen_token.encode(), token.encode()))
        or (last4 is not None and hmac.compare_digest(report.phone[-4:].encode(), last4.encode()))
    )
    if not proven:
        raise not_found(f"案件 {code} ")
    return report


def _keep_comment(db: Database, code: str, kind: str, body: CitizenVerdict) -> None:
    """The citizen's words stay out of Temporal; a retried answer does not store them twice."""
    with db.writing() as session:
        same = select(CitizenComment.id).where(
            CitizenComment.case_code == code,
            CitizenComment.kind == kind,
            CitizenComment.verdict == body.verdict.value,
            CitizenComment.comment == body.comment,
        )
        if session.exec(same).first() is None:
            session.add(
                CitizenComment(
                    case_code=code, kind=kind, verdict=body.verdict.value, comment=body.comment, at=datetime.now(UTC)
                )
            )


@router.get("/{code}", response_model=Progress, summary="查询诉求办理进度（手机后四位或查询链接）")
async def progress(
    code: str,
    s: StateDep,
    phone_last4: str | None = Query(None, pattern=r"^[0-9]{4}$"),
    token: str | None = Query(None, max_length=64),
):
    report = await s.db.run(_own, s.db, code, phone_last4, token)
    if not report.workflow_started:  # stored, its workflow not started yet (Temporal away): 信息采集
        return Progress(
            case_code=code,
            step=Step.COLLECT.value,
            step_label=STEP_LABELS[Step.COLLECT],
            awaiting=None,
            deadline=None,
            timeline=[],
        )
    view = await live_view(s, code)
    # Staff notes can name people; the citizen sees what happened and when, with unit codes.
    timeline = [e.model_copy(update={"note": ""}) for e in view.timeline]
    return Progress(
        case_code=code,
        step=view.step.value,
        step_label=STEP_LABELS[view.step],
        awaiting=view.awaiting,
        deadline=view.clock.deadline if view.clock else None,
        timeline=timeline,
    )


async def _answer(update, kind: str, code: str, body: CitizenVerdict, s, key: str) -> Ack:
    await s.db.run(_own, s.db, code, None, body.token)
    result = await apply(s, code, update, Evaluation(actor=CITIZEN, verdict=body.verdict), key)
    await s.db.run(_keep_comment, s.db, code, kind, body)
    return ack(result)


@router.post("/{code}/evaluation", response_model=Ack, summary="评价办理结果（满意 / 基本满意 / 不满意）")
async def evaluate(code: str, body: CitizenVerdict, s: StateDep, key: IdempotencyKey):
    return await _answer(ComplaintWorkflow.evaluate, "evaluation", code, body, s, key)


@router.post("/{code}/visit", response_model=Ack, summary="回访答复")
async def visit(code: str, body: CitizenVerdict, s: StateDep, key: IdempotencyKey):
    return await _answer(ComplaintWorkflow.answer_visit, "visit", code, body, s, key)
