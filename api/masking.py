"""个人信息脱敏 — personal data leaves the API masked unless the caller's role may read it."""

from __future__ import annotations

import re


def phone(value: str) -> str:
    return value[:3] + "****" + value[-4:] if len(value) >= 8 else "****"


def name(value: str) -> str:
    return value[:1] + "*" * max(len(value) - 1, 1) if value else ""


def address(value: str) -> str:
    return value[:6] + "****" if len(value) > 6 else "****" if value else ""


_NUMBERS = re.compile(r"\d[\d\s-]{5,}\d[\dXx]?")  # phone, ID-card and bank numbers inside free text


def free_text(value: str) -> str:
    """Free text shown publicly (Open311): long digit runs such as phone or ID numbers are cut."""
    return _NUMBERS.sub(lambda m: m.group()[:3] + "****", value)
