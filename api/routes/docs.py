"""接口文档 — ``/docs`` and ``/openapi.json`` for people signed in or clients holding a key;
public only where ``public_docs`` is set (``./closeloop dev``)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import JSONResponse, RedirectResponse

from api.auth import authenticate
from api.deps import StateDep
from api.errors import ApiError
from api.web.session import viewer_of

router = APIRouter(include_in_schema=False)


def _allowed(request: Request, s) -> bool:
    """Blocking (a session or a database key may be looked up): the routes are ``def``."""
    if s.settings.public_docs or viewer_of(request, s) is not None:
        return True
    try:
        authenticate(request, s.keys, s.db)
    except ApiError:
        return False
    return True


@router.get("/openapi.json")
def openapi(request: Request, s: StateDep):
    if not _allowed(request, s):
        raise ApiError(401, "Unauthorized", "接口文档需要登录或 API 密钥")
    return JSONResponse(request.app.openapi())


@router.get("/docs")
def docs(request: Request, s: StateDep):
    if not _allowed(request, s):
        return RedirectResponse("/ui/login", status_code=303)
    return get_swagger_ui_html(openapi_url="/openapi.json", title="closeloop 接口文档")
