"""登录身份 — the web pages' identity: a person signed in with their own account.

The cookie holds a random session token; the database holds its digest, the person and the
session's form token (CSRF). Logout, disabling the person or resetting their password ends the
session at once. Every form post carries the form token and must come from this site.
"""

from __future__ import annotations

import hmac
from typing import Annotated
from urllib.parse import urlencode, urlsplit

from fastapi import Depends, Request
from fastapi.responses import RedirectResponse

from api.accounts import SignedIn, session_user
from api.auth import Principal
from api.deps import StateDep
from api.headers import is_https
from config import Settings
from domain.vocabulary import CENTER_ROLES, VERIFIER_ROLES, Role  # noqa: F401  (CENTER_ROLES: re-exported for pages.py)

COOKIE = "closeloop_session"
COOKIE_PATH = "/"  # the API's /docs are behind the same sign-in
BOARD_ROLES = VERIFIER_ROLES  # the case board: the center and its verifiers
WEB_ROLES = (*BOARD_ROLES, Role.UNIT_STAFF)


def viewer_of(request: Request, s) -> Principal | None:
    """The signed-in person, or None (no cookie, an ended session, a disabled person). Blocking."""
    token = request.cookies.get(COOKIE)
    if not token or len(token) > 128:
        return None
    found = session_user(s.db, token)
    if found is None:
        return None
    user, session = found
    role = Role(user.role)
    if role not in WEB_ROLES:
        return None
    return Principal(role=role, user=user.login, name=user.name, unit=user.unit, csrf=session.csrf)


def _viewer(request: Request, s: StateDep) -> Principal | None:
    return viewer_of(request, s)


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


def set_login(response: RedirectResponse, request: Request, settings: Settings, signed: SignedIn) -> None:
    https = is_https(request.scope, settings.trusted_proxies)
    secure = settings.cookie_secure if settings.cookie_secure is not None else https
    response.set_cookie(
        COOKIE,
        signed.token,
        path=COOKIE_PATH,
        httponly=True,
        samesite="lax",
        secure=secure,
        max_age=int(settings.session_hours * 3600),
    )


def clear_login(response: RedirectResponse) -> None:
    response.delete_cookie(COOKIE, path=COOKIE_PATH, httponly=True, samesite="lax")


def same_origin(request: Request) -> bool:
    """Form posts from another site are refused even where a browser would send the cookie."""
    if request.headers.get("sec-fetch-site") in ("cross-site", "same-site"):
        return False
    origin = request.headers.get("origin")
    if not origin or origin == "null":
        return origin is None
    return urlsplit(origin).netloc == request.headers.get("host", "")


def form_ok(request: Request, viewer: Principal, token: str | None) -> bool:
    """A form post is the viewer's own: from this site and with their session's form token."""
    return (
        same_origin(request)
        and bool(viewer.csrf and token)
        and hmac.compare_digest(viewer.csrf.encode(), str(token).encode())
    )
