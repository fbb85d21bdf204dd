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
from sqlalchemy.exc import DataError, DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from temporalio.client import WorkflowQueryFailedError, WorkflowUpdateFailedError
from temporalio.service import RPCError, RPCStatusCode

from domain.errors import STATUS, Rejection


class ErrorBody(BaseModel):
    code: str
    message: str
    detail: Any = None


class ErrorResponse(BaseModel):
    error: ErrorBody


class ApiError(Exception):
    def __init__(
        self, status: int, code: str, message: str, detail: Any = None, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.detail, self.headers = status, code, message, detail, headers


RETRY_AFTER = {"Retry-After": "2"}
# Every error status a route may answer, each in the ErrorResponse shape (documented on every route).
DOCUMENTED = {
    400: "请求体无法解析（不是有效的 JSON 或表单） (HttpError)",
    401: "未登录或 API key 无效 (Unauthorized)",
    403: "无权办理：角色不符、案件不在本人办理范围内或单位不符 (Forbidden, OutOfScope, WrongUnit)",
    404: "案件或资源不存在 (NotFound)",
    409: "当前环节不能办理，或流程尚在启动中 (WrongStep, Queued)",
    422: "输入无效 (InvalidInput, UnknownCode)",
    429: "尝试次数过多（群众以手机后四位查询多次不符），按 Retry-After 再试 (TooManyAttempts)",
    503: "依赖暂不可用或操作未获确认，按 Retry-After 重试；操作请用同一个 Idempotency-Key "
    "(WorkflowUnavailable, DatabaseUnavailable, DatabaseBusy, ActionUnconfirmed)",
}


def unconfirmed(key: str) -> ApiError:
    """503 ActionUnconfirmed: the action may or may not have been applied; a retry with the same
    Idempotency-Key applies it at most once and answers what the first attempt would have."""
    return ApiError(
        503,
        "ActionUnconfirmed",
        "操作尚未得到流程服务确认，请使用同一个 Idempotency-Key 重试（不会重复执行）",
        {"idempotency_key": key},
        RETRY_AFTER,
    )


def not_found(what: str) -> ApiError:
    return ApiError(404, "NotFound", f"{what}不存在")


def _json(
    status: int, code: str, message: str, detail: Any = None, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(
        status_code=status, content={"error": {"code": code, "message": message, "detail": detail}}, headers=headers
    )


def from_update_failure(err: WorkflowUpdateFailedError) -> ApiError:
    cause = err.cause
    kind = getattr(cause, "type", None)
    try:
        status = STATUS[Rejection(kind)]
    except ValueError:
        status = 409
    return ApiError(status, kind or "Rejected", getattr(cause, "message", None) or str(cause))


def from_temporal(err: WorkflowUpdateFailedError | WorkflowQueryFailedError | RPCError) -> ApiError:
    """The one mapping of Temporal's answers: a validator's refusal by its kind, a case Temporal
    no longer has (archived) 404, anything else (unreachable, a query the worker could not answer)
    503 — used by the handlers below and the pages."""
    if isinstance(err, WorkflowUpdateFailedError):
        return from_update_failure(err)
    if isinstance(err, RPCError) and err.status == RPCStatusCode.NOT_FOUND:
        return ApiError(404, "NotFound", "案件不存在或已归档")
    return ApiError(503, "WorkflowUnavailable", "流程服务暂时不可用，请稍后重试", headers=RETRY_AFTER)


def install(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api(_: Request, exc: ApiError):
        return _json(exc.status, exc.code, exc.message, exc.detail, exc.headers)

    @app.exception_handler(DBAPIError)
    async def _database(_: Request, exc: DBAPIError):
        if isinstance(exc, DataError):  # e.g. a NUL byte PostgreSQL will not store
            return _json(422, "InvalidInput", "请求内容含有无法保存的字符")
        return _json(503, "DatabaseUnavailable", "数据库暂时不可用，请稍后重试", headers=RETRY_AFTER)

    @app.exception_handler(PoolTimeout)
    async def _busy(_: Request, exc: PoolTimeout):
        return _json(503, "DatabaseBusy", "系统繁忙，请稍后重试", headers=RETRY_AFTER)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException):
        codes = {401: "Unauthorized", 403: "Forbidden", 404: "NotFound", 405: "MethodNotAllowed"}
        return _json(exc.status_code, codes.get(exc.status_code, "HttpError"), str(exc.detail))

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError):
        fields = [
            {"field": ".".join(str(p) for p in e["loc"] if p != "body"), "problem": e["msg"]} for e in exc.errors()
        ]
        return _json(
            422, "InvalidInput", "请求内容不合规：" + "；".join(f"{f['field']} {f['problem']}" for f in fields), fields
        )

    @app.exception_handler(WorkflowUpdateFailedError)
    @app.exception_handler(WorkflowQueryFailedError)
    @app.exception_handler(RPCError)
    async def _temporal(_: Request, exc: WorkflowUpdateFailedError | WorkflowQueryFailedError | RPCError):
        e = from_temporal(exc)
        return _json(e.status, e.code, e.message, e.detail, e.headers)
