"""操作 — one POST route per human action, generated from the action table (``api/actions.py``),
and what the caller may do on a case now (the workflow's own answer).
"""

# No ``from __future__ import annotations`` here: each generated endpoint's body annotation must be
# the action's model itself, evaluated when the endpoint is made, for FastAPI to read it.

from fastapi import APIRouter

from api.actions import ACTIONS_LIST, BY_UPDATE, HumanAction
from api.auth import Principal
from api.deps import CaseStaffDep, StateDep, in_scope
from api.queries import ack
from api.schemas import Ack, AllowedAction
from api.updates import IdempotencyKey, allowed_updates, apply
from domain.labels import ROLE_LABELS

router = APIRouter(prefix="/cases", tags=["actions"])


def _endpoint(action: HumanAction):
    async def act(
        code: str, body: action.body, s: StateDep, key: IdempotencyKey, p: Principal = in_scope(*action.roles)
    ) -> Ack:
        arg = await s.db.run(action.prepare, body, p.actor(), s.district, s.db)
        return ack(await apply(s, code, action.update, arg, key))

    act.__name__ = action.update.__name__
    act.__doc__ = f"{action.label}。谁可以：{'、'.join(ROLE_LABELS[r] for r in action.roles)}。"
    return act


for _action in ACTIONS_LIST:
    router.add_api_route(
        f"/{{code}}/{_action.path}",
        _endpoint(_action),
        methods=["POST"],
        response_model=Ack,
        summary=_action.summary or _action.label,
        name=_action.name,
    )


@router.get(
    "/{code}/actions", response_model=list[AllowedAction], summary="当前可执行的操作（由流程按环节、角色、单位判断）"
)
async def allowed(code: str, p: CaseStaffDep, s: StateDep):
    names = await allowed_updates(s, code, p.actor())
    return [
        AllowedAction(name=a.name, label=a.label, path=f"/cases/{code}/{a.path}")
        for a in (BY_UPDATE[n] for n in names if n in BY_UPDATE)
    ]
