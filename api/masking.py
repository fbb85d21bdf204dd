"""个人信息脱敏 — personal data leaves the API masked unless the caller's role may read it."""

from __future__ import annotations

from collections.abc import Iterable

from security import pii


def phone(value: str) -> str:
    return value[:3] + "****" + value[-4:] if len(value) >= 8 else "****"


def name(value: str) -> str:
    return value[:1] + "*" * max(len(value) - 1, 1) if value else ""


def address(value: str) -> str:
    return value[:6] + "****" if len(value) > 6 else "****" if value else ""


def free_text(value: str, names: Iterable[str] = ()) -> str:
    """Free text shown publicly (Open311): phone, ID and bank card numbers, e-mail addresses and the
    given ``names`` (the reporter's) replaced by placeholders (``security/pii.py``)."""
    return pii.scrub(value, names)
