"""页面操作 — every form on the case page and in the inbox posts here.

A form is the action's JSON body in form fields (``extra.amount`` for a nested field), checked by
the same model and sent through the same action table as the JSON route, with the actor taken
from the cookie's principal. Which forms a page shows is the workflow's answer for the viewer
(``allowed_actions``); a rejection comes back as a Chinese message on the page, never as a 500.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from temporalio.client import WorkflowQueryFailedError, WorkflowUpdateFailedError
from temporalio.service import RPCError

from api import scope
from api.actions import ACTIONS, BY_UPDATE
from api.auth import Principal, require
from api.deps import AppState, StateDep
from api.errors import ApiError, from_temporal
from api.forms import FormField, explain, form_data, form_fields
from api.updates import KEY_PATTERN, apply, query_allowed
from api.web.session import ViewerDep, form_ok, safe_local, to_login

router = APIRouter(include_in_schema=False)


class FormError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


async def available(state: AppState, code: str, viewer: Principal) -> set[str]:
    """The forms worth showing: the actions the workflow would accept from this viewer now."""
    try:
        updates = await query_allowed(state, code, viewer.actor())
    except (RPCError, WorkflowQueryFailedError):  # Temporal away: the page shows the case, without forms
        return set()
    return {BY_UPDATE[name].name for name in updates if name in BY_UPDATE}


# Actions with a form of their own in case.html; any other allowed action gets a form built from its body.
DEDICATED_FORMS = frozenset(
    {
        "register",
        "decline",
        "duplicate",
        "reassign",
        "urge",
        "escalate",
        "decide_extension",
        "verify",
        "evaluate",
        "visit",
        "reopen",
        "close",
        "sign",
        "return",
        "progress",
        "extension",
        "complete",
    }
)


@dataclass(frozen=True)
class GenericForm:
    name: str
    label: str
    fields: list[FormField]


def generic_forms(allowed: set[str]) -> list[GenericForm]:
    chosen = [ACTIONS[name] for name in sorted(allowed - DEDICATED_FORMS) if name in ACTIONS]
    return [GenericForm(a.name, a.label, form_fields(a.body, a.labels)) for a in chosen]


def flash(back: str, **message: str) -> RedirectResponse:
    parts = urlsplit(back)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k not in ("ok", "error")] + list(message.items())
    return RedirectResponse(f"{parts.path}?{urlencode(query)}", status_code=303)


@router.post("/cases/{code}/actions/{name}")
async def act(code: str, name: str, request: Request, p: ViewerDep, s: StateDep):
    if p is None:
        return to_login(request)
    form = await request.form()
    back = safe_local(str(form.get("back") or "")) or f"/ui/cases/{quote(code, safe='')}"
    if not form_ok(request, p, form.get("csrf")):
        return flash(back, error="请求来源无效或页面已过期，请刷新后在本系统页面内操作")
    action = ACTIONS.get(name)
    if action is None:
        return flash(back, error="未知操作")
    key = str(form.get("idempotency_key") or "")
    try:
        require(p, *action.roles)
        scope.check(p, s.district, await s.db.run(scope.case_scope, s.db, code))
        if not re.fullmatch(KEY_PATTERN, key):
            raise FormError("页面已过期，请刷新后重试")
        body = action.body.model_validate(form_data(form, action.body))
        arg = await s.db.run(action.prepare, body, p.actor(), s.district, s.db)
        await apply(s, code, action.update, arg, key)
    except (FormError, ApiError) as err:
        return flash(back, error=err.message)
    except ValidationError as err:
        return flash(back, error=explain(err, action.labels))
    except (WorkflowUpdateFailedError, RPCError) as err:
        return flash(back, error=from_temporal(err).message)
    return flash(back, ok=action.done(body, s.district))
