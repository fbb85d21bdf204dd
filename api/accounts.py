"""账号服务 — people's accounts and sessions, machine clients' keys. Every function is blocking (the
API calls them through ``db.run`` or from ``def`` routes; the CLI directly).

Passwords are hashed with argon2id (``argon2-cffi``, the maintained binding of the Password Hashing
Competition winner); an unknown login still spends one hash, so timing does not tell logins apart.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import update
from sqlmodel import select

from domain.district import District, UnknownCode
from domain.vocabulary import Channel, Role
from store.accounts import ApiKeyRow, SessionRow, UserRow
from store.db import Database

HASHER = PasswordHasher()
_DUMMY_HASH = HASHER.hash(secrets.token_hex(16))
MIN_PASSWORD = 10
STAFF_ROLES = (Role.SUPERVISOR, Role.ADMIN, Role.VERIFIER, Role.UNIT_STAFF)  # people; intake is a machine


class AccountError(ValueError):
    """A request about accounts that cannot be done; the message is Chinese and shown as is."""


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def check_binding(district: District, role: Role, unit: str | None) -> None:
    """Unit staff belong to a unit, verifiers to an area (a grid or a town/village above it)."""
    if role not in STAFF_ROLES:
        raise AccountError("工作人员账号的角色只能是调度员、管理员、核查员或承办单位")
    if role in (Role.UNIT_STAFF, Role.VERIFIER) and not unit:
        raise AccountError("承办单位和核查员账号必须绑定单位或网格")
    if unit:
        try:
            district.unit(unit)
        except UnknownCode as err:
            raise AccountError(str(err)) from None


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD or len(password) > 256:
        raise AccountError(f"密码长度须为 {MIN_PASSWORD}–256 个字符")


def create_user(db: Database, district: District, login: str, name: str, role: Role, unit: str | None, password: str):
    check_binding(district, role, unit)
    check_password(password)
    now = datetime.now(UTC)
    with db.writing() as session:
        if session.exec(select(UserRow.id).where(UserRow.login == login)).first() is not None:
            raise AccountError(f"账号 {login} 已存在")
        user = UserRow(
            login=login,
            name=name,
            role=role.value,
            unit=unit,
            password_hash=HASHER.hash(password),
            created_at=now,
            password_changed_at=now,
        )
        session.add(user)
        session.flush()
        return user


def _user(session, login: str) -> UserRow:
    user = session.exec(select(UserRow).where(UserRow.login == login)).first()
    if user is None:
        raise AccountError(f"账号 {login} 不存在")
    return user


def set_active(db: Database, login: str, active: bool) -> UserRow:
    """Disable (or enable again) a person; disabling ends their sessions at once."""
    with db.writing() as session:
        user = _user(session, login)
        user.active = active
        if not active:
            _revoke_all(session, user.id)
        return user


def reset_password(db: Database, login: str, password: str) -> UserRow:
    check_password(password)
    with db.writing() as session:
        user = _user(session, login)
        user.password_hash = HASHER.hash(password)
        user.password_changed_at = datetime.now(UTC)
        _revoke_all(session, user.id)
        return user


def list_users(db: Database) -> list[UserRow]:
    with db.reading() as session:
        return list(session.exec(select(UserRow).order_by(UserRow.role, UserRow.login)).all())


def _revoke_all(session, user_id: int) -> None:
    session.execute(
        update(SessionRow)
        .where(SessionRow.user_id == user_id, SessionRow.revoked_at.is_(None))
        .values(revoked_at=datetime.now(UTC))
    )


@dataclass(frozen=True)
class SignedIn:
    token: str  # goes into the cookie; only its digest is stored
    user: UserRow
    csrf: str


def sign_in(db: Database, login: str, password: str, hours: float) -> SignedIn | None:
    """A new session for the right password of an active person; None otherwise (same time either way)."""
    with db.reading() as session:
        user = session.exec(select(UserRow).where(UserRow.login == login)).first()
    try:
        HASHER.verify(user.password_hash if user else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None or not user.active:
        return None
    token, csrf, now = secrets.token_urlsafe(32), secrets.token_urlsafe(24), datetime.now(UTC)
    with db.writing() as session:
        if HASHER.check_needs_rehash(user.password_hash):
            session.execute(update(UserRow).where(UserRow.id == user.id).values(password_hash=HASHER.hash(password)))
        session.add(
            SessionRow(
                token_hash=digest(token),
                user_id=user.id,
                csrf=csrf,
                created_at=now,
                expires_at=now + timedelta(hours=hours),
            )
        )
    return SignedIn(token, user, csrf)


def session_user(db: Database, token: str) -> tuple[UserRow, SessionRow] | None:
    """The person behind a session cookie while the session is live and the person active."""
    now = datetime.now(UTC)
    with db.reading() as session:
        row = session.exec(
            select(UserRow, SessionRow)
            .join(SessionRow, SessionRow.user_id == UserRow.id)
            .where(SessionRow.token_hash == digest(token), SessionRow.revoked_at.is_(None))
        ).first()
    if row is None or not row[0].active or row[1].expires_at <= now:
        return None
    return row[0], row[1]


def sign_out(db: Database, token: str) -> None:
    with db.writing() as session:
        session.execute(
            update(SessionRow)
            .where(SessionRow.token_hash == digest(token), SessionRow.revoked_at.is_(None))
            .values(revoked_at=datetime.now(UTC))
        )


def create_api_key(
    db: Database,
    district: District,
    name: str,
    role: Role,
    unit: str | None = None,
    channel: Channel | None = None,
    scopes: list[str] | None = None,
) -> str:
    """A new key for a machine client; the key itself is returned once and never stored."""
    if role == Role.INTAKE:
        unit = None
    else:
        check_binding(district, role, unit)
    key = "clk_" + secrets.token_urlsafe(32)
    with db.writing() as session:
        session.add(
            ApiKeyRow(
                key_hash=digest(key),
                prefix=key[:10],
                name=name,
                role=role.value,
                unit=unit,
                channel=channel.value if channel else None,
                scopes=scopes or [],
                active=True,
                created_at=datetime.now(UTC),
            )
        )
    return key


def key_row(db: Database, key: str) -> ApiKeyRow | None:
    with db.reading() as session:
        return session.exec(select(ApiKeyRow).where(ApiKeyRow.key_hash == digest(key), ApiKeyRow.active)).first()


def revoke_api_key(db: Database, prefix: str) -> int:
    with db.writing() as session:
        return session.execute(update(ApiKeyRow).where(ApiKeyRow.prefix == prefix).values(active=False)).rowcount
