"""One error shape for every failure: ``{"error": {"code": …, "message": …}}``.

``code`` is machine-readable (the workflow's rejection type where there is one); ``message`` is
for people, in Chinese, passed through from the validator unchanged.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from temporalio.client import WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError
from temporalio.service import RPCError, RPCStatusCode

from domain.errors import STATUS, Rejection


class ErrorBody(BaseModel):
    code: str
    message: str
    detail: Any = None


class ErrorResponse(BaseModel):
    error: ErrorBody


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, detail: Any = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.detail = status, code, message, detail


def not_found(what: str) -> ApiError:
    return ApiError(404, "NotFound", f"{what}不存在")


def _json(status: int, code: str, message: str, detail: Any = None) -> JSONResponse:
    return JSONResponse(status_code=status, content={"error": {"code": code, "message": message, "detail": detail}})


def from_update_failure(err: WorkflowUpdateFailedError) -> ApiError:
    cause = err.cause
    kind = getattr(cause, "type", None)
    try:
        status = STATUS[Rejection(kind)]
    except ValueError:
        status = 409
    return ApiError(status, kind or "Rejected", getattr(cause, "message", None) or str(cause))


def install(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api(_: Request, exc: ApiError):
        return _json(exc.status, exc.code, exc.message, exc.detail)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException):
        codes = {401: "Unauthorized", 403: "Forbidden", 404: "NotFound", 405: "MethodNotAllowed"}
        return _json(exc.status_code, codes.get(exc.status_code, "HttpError"), str(exc.detail))

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError):
        fields = [{"field": ".".join(str(p) for p in e["loc"] if p != "body"), "problem": e["msg"]} for e in exc.errors()]
        return _json(422, "InvalidInput", "请求内容不合规：" + "；".join(f"{f['field']} {f['problem']}" for f in fields), fields)

    @app.exception_handler(WorkflowUpdateFailedError)
    async def _rejected(_: Request, exc: WorkflowUpdateFailedError):
        e = from_update_failure(exc)
        return _json(e.status, e.code, e.message)

    @app.exception_handler(WorkflowUpdateRPCTimeoutOrCancelledError)
    async def _slow(_: Request, exc: WorkflowUpdateRPCTimeoutOrCancelledError):
        # The action may still be applied (e.g. the projection waits for the database): say so.
        return _json(503, "WorkflowBusy", "操作已提交但流程服务暂未确认，请稍后刷新查看结果")

    @app.exception_handler(RPCError)
    async def _temporal(_: Request, exc: RPCError):
        if exc.status == RPCStatusCode.NOT_FOUND:
            return _json(404, "NotFound", "案件不存在或已归档")
        return _json(503, "WorkflowUnavailable", "流程服务暂时不可用，请稍后重试")
