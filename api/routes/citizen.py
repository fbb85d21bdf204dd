"""群众 — follow a case by its code and the phone's last four digits (or the tracking link's
token); evaluate and answer return visits with that token.

Staff see masked phones that end in the last four digits, so those digits may show progress but
never rate a case: that needs the token only the citizen's tracking link carries. A wrong pair
answers 404 exactly like an unknown code, so codes cannot be probed. Failed last-four lookups are
limited per case and per client (``api/limiter.py``): past the limit they answer 429 — for a locked
case even with the right digits — while the token always works.
"""

from __future__ import annotations

import hmac
from datetime import UTC, datetime

from fastapi import APIRouter, Query, Request
from sqlmodel import select

from api.deps import AppState, StateDep
from api.errors import ApiError, not_found
from api.limiter import limiter_of
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


async def _lookup(request: Request, s: AppState, code: str, last4: str | None, token: str | None) -> Report:
    """By the tracking link's token (never limited), else by the phone's last four digits, whose
    failures count against the case and the client (429 once either is used up)."""
    if token is not None or last4 is None:
        try:
            return await s.db.run(_own, s.db, code, None, token)
        except ApiError:
            if last4 is None:
                raise
    limiter = limiter_of(request)
    client = limiter.client_of(request)
    with limiter.attempt(code, client):
        try:
            return await s.db.run(_own, s.db, code, last4, None)
        except ApiError as err:
            if err.status == 404:
                limiter.failed(code, client)
            raise


@router.get("/{code}", response_model=Progress, summary="查询诉求办理进度（手机后四位或查询链接）")
async def progress(
    code: str,
    request: Request,
    s: StateDep,
    phone_last4: str | None = Query(None, pattern=r"^[0-9]{4}$"),
    token: str | None = Query(None, max_length=64),
):
    report = await _lookup(request, s, code, phone_last4, token)
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
    timeline = [e.model_copy(update={"note": "", "user": ""}) for e in view.timeline]
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
