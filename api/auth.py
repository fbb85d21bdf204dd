"""身份与角色 — who is calling: a person signed in to the web pages (``api/web/session.py``) or a
machine client with an API key.

Send the key as ``X-API-Key`` or ``Authorization: Bearer …``. Keys live in the ``api_keys`` table as
SHA-256 digests (``closeloop keys add``); Settings may list keys too (development, tests), raw or as
``sha256:<hex>``. A key's scopes narrow what its role may do: ``read`` (GET) and ``write`` (the
rest); no scopes means both. Citizens hold no key: they follow a case with its tracking token or
its code and the last four digits of their phone (``api/routes/citizen.py``).
"""

from __future__ import annotations

import hmac
import time
from enum import StrEnum

from fastapi import Request

from api.accounts import digest, key_row
from api.errors import ApiError
from config import ApiKey
from domain.labels import ROLE_LABELS
from domain.messages import Actor
from domain.vocabulary import CENTER_ROLES, Role
from store.db import Database

KEY_CACHE_SECONDS = 30.0  # a revoked database key stops working within this long


class Scope(StrEnum):
    READ = "read"
    WRITE = "write"


class Principal(ApiKey):
    name: str = ""  # the person's name, for pages
    csrf: str | None = None  # the form token of a web session

    def actor(self) -> Actor:
        return Actor(role=self.role, unit=self.unit, user=self.user)

    @property
    def center(self) -> bool:
        return self.role in CENTER_ROLES


def presented_key(request: Request) -> str:
    header = request.headers.get("x-api-key") or ""
    auth = request.headers.get("authorization") or ""
    if not header and auth.lower().startswith("bearer "):
        header = auth[7:].strip()
    return header


def _from_settings(key: str, keys: dict[str, ApiKey]) -> ApiKey | None:
    hashed = digest(key)
    for stored, spec in keys.items():
        expected = stored.removeprefix("sha256:") if stored.startswith("sha256:") else None
        if hmac.compare_digest((expected or stored).encode(), (hashed if expected else key).encode()):
            return spec
    return None


_cache: dict[tuple[str, str], tuple[float, ApiKey | None]] = {}


def _from_database(key: str, db: Database) -> ApiKey | None:
    slot, now = (db.url, digest(key)), time.monotonic()
    cached = _cache.get(slot)
    if cached and now - cached[0] < KEY_CACHE_SECONDS:
        return cached[1]
    row = key_row(db, key)
    spec = (
        ApiKey(role=Role(row.role), user=f"key:{row.name}", unit=row.unit, channel=row.channel, scopes=row.scopes)
        if row
        else None
    )
    if len(_cache) > 10_000:
        _cache.clear()
    _cache[slot] = (now, spec)
    return spec


def authenticate(request: Request, keys: dict[str, ApiKey], db: Database | None = None) -> Principal:
    """The key's principal (401 without a valid key; 403 when its scopes do not cover the method).
    Blocking when it reads the database: call it from a ``def`` dependency."""
    key = presented_key(request)
    if not key:
        raise ApiError(401, "Unauthorized", "缺少 API 密钥（X-API-Key）")
    if len(key) > 256:
        raise ApiError(401, "Unauthorized", "API 密钥无效")
    spec = _from_settings(key, keys) or (_from_database(key, db) if db else None)
    if spec is None:
        raise ApiError(401, "Unauthorized", "API 密钥无效")
    needed = Scope.READ if request.method in ("GET", "HEAD", "OPTIONS") else Scope.WRITE
    if spec.scopes and needed.value not in spec.scopes:
        raise ApiError(403, "Forbidden", f"该密钥没有 {needed.value} 权限")
    return Principal(**spec.model_dump())


def require(principal: Principal, *roles: Role) -> Principal:
    if principal.role not in roles and principal.role != Role.ADMIN:
        names = "、".join(ROLE_LABELS[r] for r in roles)
        raise ApiError(403, "Forbidden", f"该操作需要角色：{names}")
    return principal
