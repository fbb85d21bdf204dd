"""受理渠道 — each report starts one case; a retried POST returns the same case."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from api.deps import IntakeDep, StateDep
from api.errors import ApiError
from api.intake import accept, tracking_url
from api.queries import require_codes
from api.schemas import IntakeAccepted, IntakeReport
from domain.vocabulary import Channel

router = APIRouter(prefix="/intake", tags=["intake"])


@router.post("/{channel}", status_code=202, response_model=IntakeAccepted, summary="受理一条诉求（启动案件流程）")
async def report(channel: Channel, body: IntakeReport, p: IntakeDep, s: StateDep):
    """Store the report (personal data stays in the database), then start its workflow.

    Answers 202 with the case code and a tracking URL. ``status`` is ``queued`` when Temporal
    is unreachable: the report is kept and its workflow started as soon as Temporal is back.
    """
    if p.channel and p.channel != channel:
        raise ApiError(403, "Forbidden", f"该密钥只能提交 {p.channel.value} 渠道的诉求")
    require_codes(s.district, grids=[body.grid], categories=[body.category_hint] if body.category_hint else [])
    done = await accept(s.client, s.settings, s.db, s.district, channel, body.model_dump())
    stored = done.report
    accepted = IntakeAccepted(
        case_code=stored.case_code,
        citizen_token=stored.citizen_token,
        tracking_url=tracking_url(s.settings, stored),
        status="started" if done.started else "queued",
        new=done.new,
    )
    return JSONResponse(status_code=202, content=accepted.model_dump())
