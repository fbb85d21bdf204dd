"""个人信息清除 — phone, ID, bank card numbers, e-mail addresses and names cut out of free text.

``scrub`` is for text that leaves the place personal data is kept: staff notes before they become
workflow arguments (Temporal's history keeps them for good), descriptions shown publicly (Open311).
It replaces, by a placeholder naming what was there (in this order; a span taken is not looked at again):

==============  ===========================================================  ==============
kind            matched                                                      placeholder
==============  ===========================================================  ==============
e-mail          ``name@host.tld``                                            ``[邮箱]``
resident ID     18 digits (last may be X) or 15 digits, with a valid         ``[身份证号]``
                birth date; spaces or dashes between the 6-8-4 groups
mobile          ``1[3-9]x xxxx xxxx`` (space or dash between the 3-4-4      ``[手机号]``
                groups), optionally after ``+86``, ``0086`` or ``86``
bank card       13–19 digits, Luhn-valid; contiguous or in groups of four    ``[银行卡号]``
landline        ``0xx(x)-xxxxxxx(x)``, the area code also in brackets        ``[电话]``
names           each name given (two characters or more), wherever it        ``[姓名]``
                appears; 张某 and similar forms are left alone
==============  ===========================================================  ==============

Full-width digits and letters (``１３８…``) are matched as their ASCII forms; the rest of the text
is returned exactly as it came (full-width punctuation included). A number only counts when it
stands alone: digits or Latin letters right before or after it mean it is part of something else,
so case codes (``WD-20261124-000042``), dates, amounts, house numbers (``3号楼``, ``502室``) and
masked numbers (``138****5678``) survive. Scrubbing is idempotent: ``scrub(scrub(x)) == scrub(x)``.

What it cannot know: a number typed with unusual separators (``138.1234.5678``), a name it was not
given, an address. It lowers what leaks; it is not a guarantee, so free text still stays where
access is controlled.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

EMAIL, ID_CARD, BANK_CARD, MOBILE, LANDLINE, NAME = "[邮箱]", "[身份证号]", "[银行卡号]", "[手机号]", "[电话]", "[姓名]"
PLACEHOLDERS = (EMAIL, ID_CARD, BANK_CARD, MOBILE, LANDLINE, NAME)

# Full-width ASCII forms (U+FF01–U+FF5E) of digits, letters and the few signs numbers and addresses
# use, mapped one character to one, so positions in the mapped text are positions in the original.
_HALF = str.maketrans(
    {
        chr(0xFF10 + i): chr(0x30 + i)
        for i in range(10)  # ０-９
    }
    | {chr(0xFF21 + i): chr(0x41 + i) for i in range(26)}  # Ａ-Ｚ
    | {chr(0xFF41 + i): chr(0x61 + i) for i in range(26)}  # ａ-ｚ
    | {"＋": "+", "－": "-", "＠": "@", "．": ".", "＿": "_", "（": "(", "）": ")", "\u3000": " "}
)

_ALONE_BEFORE = r"(?<![0-9A-Za-z])(?<![0-9]\.)"  # not inside a longer number, code or decimal
_ALONE_AFTER = r"(?![0-9A-Za-z])(?!\.[0-9])"
_DATE = r"(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])"  # MMDD
_SEP = r"[ -]?"


def _alone(pattern: str) -> re.Pattern[str]:
    return re.compile(_ALONE_BEFORE + "(?:" + pattern + ")" + _ALONE_AFTER)


def luhn(digits: str) -> bool:
    """The Luhn check digit bank card numbers carry."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _card(number: str) -> bool:
    digits = re.sub(r"[ -]", "", number)
    return 13 <= len(digits) <= 19 and luhn(digits)


# (placeholder, pattern, extra check on the matched text) in priority order: a span taken by an
# earlier kind is not looked at again.
_KINDS: list[tuple[str, re.Pattern[str], Callable[[str], bool] | None]] = [
    (EMAIL, re.compile(r"(?<![\w.%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}", re.A), None),
    (
        ID_CARD,
        _alone(
            rf"[1-9][0-9]{{5}}{_SEP}(?:18|19|20)[0-9]{{2}}{_DATE}{_SEP}[0-9]{{3}}[0-9Xx]"  # 18 digits
            rf"|[1-9][0-9]{{5}}[0-9]{{2}}{_DATE}[0-9]{{3}}"  # 15 digits (issued before 1999)
        ),
        None,
    ),
    (MOBILE, _alone(rf"(?:(?:\+|00)?86{_SEP})?1[3-9][0-9]{_SEP}[0-9]{{4}}{_SEP}[0-9]{{4}}"), None),
    (BANK_CARD, _alone(r"[0-9]{13,19}|[0-9]{4}(?:[ -][0-9]{4}){2,3}(?:[ -][0-9]{1,4})?"), _card),
    (LANDLINE, _alone(r"(?:0[1-9][0-9]{1,2}[ -]?|\(0[1-9][0-9]{1,2}\) ?)[2-9][0-9]{6,7}"), None),
]
_PLACEHOLDER = re.compile("|".join(re.escape(p) for p in PLACEHOLDERS))


def _spans(text: str, names: list[str]) -> list[tuple[int, int, str]]:
    """Where personal data is in ``text`` (already mapped to half-width), without overlaps."""
    taken: list[tuple[int, int, str]] = [(m.start(), m.end(), m.group()) for m in _PLACEHOLDER.finditer(text)]

    def free(start: int, end: int) -> bool:
        return all(end <= s or start >= e for s, e, _ in taken)

    for placeholder, pattern, check in _KINDS:
        for m in pattern.finditer(text):
            if free(m.start(), m.end()) and (check is None or check(m.group())):
                taken.append((m.start(), m.end(), placeholder))
    for name in names:  # longest first: 欧阳娜娜 before 欧阳
        flags = re.IGNORECASE if name.isascii() else 0
        boundary = (r"(?<![A-Za-z])", r"(?![A-Za-z])") if name.isascii() else ("", "")
        for m in re.finditer(boundary[0] + re.escape(name) + boundary[1], text, flags):
            if free(m.start(), m.end()):
                taken.append((m.start(), m.end(), NAME))
    return sorted(taken)


def _once(text: str, names: list[str]) -> str:
    mapped = text.translate(_HALF)
    out, at = [], 0
    for start, end, replacement in _spans(mapped, names):
        out.append(text[at:start])
        out.append(replacement)
        at = end
    out.append(text[at:])
    return "".join(out)


def scrub(text: str, names: Iterable[str] = ()) -> str:
    """``text`` with personal numbers, e-mail addresses and the given ``names`` replaced by placeholders.

    Names shorter than two characters are ignored (one character would cut every word it is in)."""
    wanted = sorted(
        {n.strip().translate(_HALF) for n in names if n and len(n.strip()) >= 2}, key=lambda n: (-len(n), n)
    )
    # Cutting one number can leave another standing alone that did not before (``a@b.cn13812345678``):
    # repeat until nothing changes, which is what makes scrubbing idempotent.
    for _ in range(8):
        scrubbed = _once(text, wanted)
        if scrubbed == text:
            break
        text = scrubbed
    return text
