"""Human actions → workflow updates: looked up without holding a connection, applied exactly once.

Every action carries an idempotency key (the ``Idempotency-Key`` header; pages, the CLI and the
simulator generate one per action) that becomes the Temporal update ID, so a retried action is
applied once and answers what the first one answered. An action the workflow does not confirm
within ``action_timeout_seconds`` answers 503 ``ActionUnconfirmed``: retry with the same key.

The database is read in the database thread pool and released before Temporal is awaited: the
update waits for the projection activity, which needs a connection of its own.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any

from fastapi import Depends, Header
from sqlmodel import select
from temporalio.client import WorkflowHandle, WorkflowUpdateRPCTimeoutOrCancelledError, WorkflowUpdateStage
from temporalio.service import RPCError, RPCStatusCode

from api.deps import AppState
from api.errors import ApiError, not_found, unconfirmed
from domain.errors import Rejection
from domain.messages import Actor, CaseView, UpdateAck
from store.db import Database
from store.tables import Report
from workflows.complaint import ComplaintWorkflow

KEY_PATTERN = r"^[A-Za-z0-9_.:\-]{1,64}$"


def idempotency_key(
    key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            pattern=KEY_PATTERN,
            description="幂等键：同一操作重试时请使用同一个键（1–64 位字母、数字或 _.:-）",
        ),
    ] = None,
) -> str:
    """The caller's key, or a fresh one (then a retry is a new action: send a key to be safe)."""
    return key or uuid.uuid4().hex


IdempotencyKey = Annotated[str, Depends(idempotency_key)]


@dataclass(frozen=True)
class CaseRef:
    """What an action needs to know of a stored report before it calls Temporal."""

    case_code: str
    workflow_started: bool


def find_case(db: Database, code: str) -> CaseRef | None:
    with db.reading() as session:
        row = session.exec(select(Report.case_code, Report.workflow_started).where(Report.case_code == code)).first()
    return CaseRef(row[0], row[1]) if row else None


@contextmanager
def reaching_temporal() -> Iterator[None]:
    """Temporal calls from the API. The client connects lazily (the API takes reports while Temporal
    is away); until it has connected once, a call raises RuntimeError, which is answered like any
    other unreachable Temporal: an RPCError UNAVAILABLE (503 WorkflowUnavailable)."""
    try:
        yield
    except RuntimeError as err:
        if "client connect" not in str(err):
            raise
        raise RPCError(str(err), RPCStatusCode.UNAVAILABLE, b"") from err


async def case_handle(state: AppState, code: str) -> WorkflowHandle:
    """The case's workflow; 404 for an unknown code, 409 while the workflow is still being started."""
    ref = await state.db.run(find_case, state.db, code)
    if ref is None:
        raise not_found(f"案件 {code} ")
    if not ref.workflow_started:
        raise ApiError(409, "Queued", "案件已受理，流程尚在启动中，请稍后再试")
    return state.client.get_workflow_handle_for(ComplaintWorkflow.run, code)


async def apply(state: AppState, code: str, update: Any, arg: Any, key: str) -> UpdateAck:
    """Send one human action as an update whose ID is the idempotency key (scoped by action)."""
    workflow = await case_handle(state, code)
    timeout = timedelta(seconds=state.settings.action_timeout_seconds)
    try:
        with reaching_temporal():
            started = await workflow.start_update(
                update,
                arg,
                id=f"{update.__name__}:{key}",
                wait_for_stage=WorkflowUpdateStage.COMPLETED,
                rpc_timeout=timeout,
            )
            return await started.result(rpc_timeout=timeout)
    except WorkflowUpdateRPCTimeoutOrCancelledError:
        raise unconfirmed(key) from None
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:  # the report exists, so its workflow has ended
            raise ApiError(409, Rejection.WRONG_STEP.value, f"案件 {code} 已结案归档，不能再办理") from None
        raise unconfirmed(key) from None


async def live_view(state: AppState, code: str) -> CaseView:
    """The case's live state (the ``view`` query), bounded by ``query_timeout_seconds``."""
    workflow = state.client.get_workflow_handle_for(ComplaintWorkflow.run, code)
    with reaching_temporal():
        return await workflow.query(
            ComplaintWorkflow.view, rpc_timeout=timedelta(seconds=state.settings.query_timeout_seconds)
        )


async def query_allowed(state: AppState, code: str, actor: Actor) -> list[str]:
    """The updates ``actor`` may send to the case now, as the workflow's validators judge; none once
    Temporal no longer has the workflow (archived, or not started yet). No database read."""
    workflow = state.client.get_workflow_handle_for(ComplaintWorkflow.run, code)
    try:
        with reaching_temporal():
            return await workflow.query(
                ComplaintWorkflow.allowed_actions,
                actor,
                rpc_timeout=timedelta(seconds=state.settings.query_timeout_seconds),
            )
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            return []
        raise


async def allowed_updates(state: AppState, code: str, actor: Actor) -> list[str]:
    """As :func:`query_allowed`, after the case is known to exist (404) and to be started (409 Queued)."""
    await case_handle(state, code)
    return await query_allowed(state, code, actor)
