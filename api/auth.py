"""身份与角色 — API keys from Settings, each bound to a role (and a unit or channel).

Send the key as ``X-API-Key`` or ``Authorization: Bearer …``. Citizens hold no key: they prove a
case is theirs with its code and the last four digits of their phone (``api/routes/citizen.py``).
"""

from __future__ import annotations

import hmac

from fastapi import Request

from api.errors import ApiError
from config import ApiKey
from domain.labels import ROLE_LABELS
from domain.messages import Actor
from domain.vocabulary import Role


class Principal(ApiKey):
    def actor(self) -> Actor:
        return Actor(role=self.role, unit=self.unit, user=self.user)

    @property
    def center(self) -> bool:
        return self.role in (Role.SUPERVISOR, Role.ADMIN)


def authenticate(request: Request, keys: dict[str, ApiKey]) -> Principal:
    header = request.headers.get("x-api-key") or ""
    auth = request.headers.get("authorization") or ""
    if not header and auth.lower().startswith("bearer "):
        header = auth[7:].strip()
    if not header:
        raise ApiError(401, "Unauthorized", "缺少 API 密钥（X-API-Key）")
    for key, spec in keys.items():
        if hmac.compare_digest(key.encode(), header.encode()):
            return Principal(**spec.model_dump())
    raise ApiError(401, "Unauthorized", "API 密钥无效")


def require(principal: Principal, *roles: Role) -> Principal:
    if principal.role not in roles and principal.role != Role.ADMIN:
        names = "、".join(ROLE_LABELS[r] for r in roles)
        raise ApiError(403, "Forbidden", f"该操作需要角色：{names}")
    return principal
