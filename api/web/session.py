"""登录身份 — the web pages' identity: an API key held in an httponly cookie.

The key is checked exactly like the JSON API checks its header (``api.auth.authenticate``), so a
page sees the same principal, role and unit as a script holding the same key would.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode, urlsplit

from fastapi import Depends, Request
from fastapi.responses import RedirectResponse
from starlette.requests import Request as RawRequest

from api.auth import Principal, authenticate
from api.deps import StateDep
from api.errors import ApiError
from config import ApiKey
from domain.vocabulary import CENTER_ROLES, VERIFIER_ROLES, Role  # noqa: F401  (CENTER_ROLES: re-exported for pages.py)

COOKIE = "closeloop_key"
COOKIE_PATH = "/ui"
BOARD_ROLES = VERIFIER_ROLES  # the case board: the center and its verifiers
WEB_ROLES = (*BOARD_ROLES, Role.UNIT_STAFF)


def check_key(key: str, keys: dict[str, ApiKey]) -> Principal:
    """The principal behind ``key``, through the API's own header check (raises ApiError 401)."""
    scope = {"type": "http", "method": "GET", "path": "/", "headers": [(b"x-api-key", key.strip().encode())]}
    return authenticate(RawRequest(scope), keys)


def _viewer(request: Request, s: StateDep) -> Principal | None:
    key = request.cookies.get(COOKIE)
    if not key:
        return None
    try:
        principal = check_key(key, s.keys)
    except (ApiError, UnicodeEncodeError):
        return None
    return principal if principal.role in WEB_ROLES else None


ViewerDep = Annotated[Principal | None, Depends(_viewer)]


def home_of(p: Principal) -> str:
    return "/ui/inbox" if p.role == Role.UNIT_STAFF else "/ui/board"


def safe_local(target: str | None) -> str | None:
    """Only paths inside the web UI may be redirect targets (no open redirect)."""
    if not target or not target.startswith("/ui/") or target.startswith("//") or "\\" in target:
        return None
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else None


def to_login(request: Request) -> RedirectResponse:
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    query = urlencode({"next": here}) if request.method == "GET" and safe_local(here) else ""
    return RedirectResponse("/ui/login" + (f"?{query}" if query else ""), status_code=303)


def set_login(response: RedirectResponse, request: Request, key: str) -> None:
    response.set_cookie(
        COOKIE,
        key,
        path=COOKIE_PATH,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        max_age=12 * 3600,
    )


def clear_login(response: RedirectResponse) -> None:
    response.delete_cookie(COOKIE, path=COOKIE_PATH, httponly=True, samesite="lax")


def same_origin(request: Request) -> bool:
    """Form posts from another site are refused even where a browser would send the cookie."""
    origin = request.headers.get("origin")
    if not origin or origin == "null":
        return origin is None
    return urlsplit(origin).netloc == request.headers.get("host", "")
