"""群众 — follow a case by its code and the phone's last four digits (or the tracking link's
token); evaluate and answer return visits with that token.

Staff see masked phones that end in the last four digits, so those digits may show progress but
never rate a case: that needs the token only the citizen's tracking link carries. A wrong pair
answers 404 exactly like an unknown code, so codes cannot be probed.
"""

from __future__ import annotations

import hmac
from datetime import datetime, timezone

from fastapi import APIRouter, Query
from sqlmodel import Session, select

from api.deps import ClientDep, SessionDep
from api.errors import not_found
from api.queries import ack, handle
from api.schemas import Ack, CitizenVerdict, Progress
from domain.messages import Actor, Evaluation
from domain.vocabulary import STEP_LABELS, Role
from store.tables import CitizenComment, Report
from workflows.complaint import ComplaintWorkflow as W

router = APIRouter(prefix="/citizen/cases", tags=["citizen"])
CITIZEN = Actor(role=Role.CITIZEN, user="citizen")


def _own(session: Session, code: str, last4: str | None = None, token: str | None = None) -> Report:
    report = session.exec(select(Report).where(Report.case_code == code)).first()
    proven = report is not None and (
        (token is not None and hmac.compare_digest(report.citizen_token.encode(), token.encode()))
        or (last4 is not None and hmac.compare_digest(report.phone[-4:].encode(), last4.encode())))
    if not proven:
        raise not_found(f"案件 {code} ")
    return report


@router.get("/{code}", response_model=Progress, summary="查询诉求办理进度（手机后四位或查询链接）")
async def progress(code: str, session: SessionDep, client: ClientDep,
                   phone_last4: str | None = Query(None, pattern=r"^[0-9]{4}$"), token: str | None = Query(None, max_length=64)):
    _own(session, code, phone_last4, token)
    v = await handle(client, session, code).query(W.view)
    # Staff notes can name people; the citizen sees what happened and when, with unit codes.
    timeline = [e.model_copy(update={"note": ""}) for e in v.timeline]
    return Progress(case_code=code, step=v.step.value, step_label=STEP_LABELS[v.step], awaiting=v.awaiting,
                    deadline=v.clock.deadline if v.clock else None, timeline=timeline)


async def _answer(update, kind: str, code: str, body: CitizenVerdict, session: Session, client) -> Ack:
    _own(session, code, token=body.token)
    result = await handle(client, session, code).execute_update(update, Evaluation(actor=CITIZEN, verdict=body.verdict))
    session.add(CitizenComment(case_code=code, kind=kind, verdict=body.verdict.value, comment=body.comment,
                               at=datetime.now(timezone.utc)))
    session.commit()
    return ack(result)


@router.post("/{code}/evaluation", response_model=Ack, summary="评价办理结果（满意 / 基本满意 / 不满意）")
async def evaluate(code: str, body: CitizenVerdict, session: SessionDep, client: ClientDep):
    return await _answer(W.evaluate, "evaluation", code, body, session, client)


@router.post("/{code}/visit", response_model=Ack, summary="回访答复")
async def visit(code: str, body: CitizenVerdict, session: SessionDep, client: ClientDep):
    return await _answer(W.answer_visit, "visit", code, body, session, client)
