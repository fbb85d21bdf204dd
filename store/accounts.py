"""账号 — people who sign in, their sessions, machine clients' API keys and the personal-data audit.

Secrets are never stored: passwords as argon2 hashes, session tokens and API keys as SHA-256 of a
random value (both are 256-bit random, so a fast hash is enough; a password is not).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from store.tables import ts


class UserRow(SQLModel, table=True):
    """工作人员 — one person: a role, and the unit (承办单位) or area (核查员's grid or town) bound to it."""

    __tablename__ = "users"
    id: int | None = Field(default=None, primary_key=True)
    login: str = Field(unique=True, index=True, max_length=64)
    name: str = Field(max_length=64)
    role: str
    unit: str | None = None
    active: bool = True
    password_hash: str
    created_at: datetime | None = ts(nullable=False)
    password_changed_at: datetime | None = ts(nullable=False)


class SessionRow(SQLModel, table=True):
    """登录会话 — server-side, so logout, disabling a user and a password reset end it at once."""

    __tablename__ = "sessions"
    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(unique=True, index=True)
    user_id: int = Field(index=True)
    csrf: str  # the form token of this session (synchronizer-token pattern)
    created_at: datetime | None = ts(nullable=False)
    expires_at: datetime | None = ts(nullable=False)
    revoked_at: datetime | None = ts()


class ApiKeyRow(SQLModel, table=True):
    """接口密钥 — a machine client (an intake system, a reporting tool): role, binding and scopes."""

    __tablename__ = "api_keys"
    id: int | None = Field(default=None, primary_key=True)
    key_hash: str = Field(unique=True, index=True)
    prefix: str  # the key's first characters, to tell keys apart in lists
    name: str
    role: str
    unit: str | None = None
    channel: str | None = None
    scopes: list[str] = Field(default_factory=list, sa_column=Column(JSON))
    active: bool = True
    created_at: datetime | None = ts(nullable=False)


class AuditRow(SQLModel, table=True):
    """个人信息查阅记录 — every read of a reporter's unmasked name, phone or address: who, what, when, why."""

    __tablename__ = "pii_audit"
    id: int | None = Field(default=None, primary_key=True)
    at: datetime | None = ts(nullable=False, index=True)
    user: str = Field(index=True)
    role: str
    unit: str | None = None
    case_code: str = Field(index=True)
    what: str  # the fields shown unmasked
    why: str  # the rule that allowed it
    via: str  # the route or page
