"""The simulator's book: what it did to each case, counted the way ``api/statistics.py`` words every metric.

At the end of a run the book is grouped by category and set next to ``GET /stats?by=category``: the
case-based figures, each case counted once. (Per-unit charging, assignment by assignment, is checked
by hand in ``tests/test_accounting.py``; the simulator does not see escalations happen.)
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from domain.vocabulary import OPEN_STEPS
from simulator.plans import CaseScript

UNCATEGORIZED = "未分类"
TOTAL = "合计"


@dataclass
class Book:
    """What the simulator did to one case: the facts every metric is counted from."""

    code: str
    token: str = ""  # the citizen's evaluation token, from the intake answer
    lead: str | None = None  # the unit it last acted for as 主办
    category: str | None = None  # as registered
    accepted: bool = False
    completed: bool = False  # verification passed (and not reopened since)
    on_time: bool | None = None  # the unit's latest 办结 came at or before its deadline
    overdue_once: bool = False  # a unit ran over at some point: it stays 超期 whatever happens next
    deadline: datetime | None = None
    step: str = "create"
    returns: int = 0
    reworks: int = 0  # 核查返工 and 重办
    extensions: int = 0
    verdict: str | None = None  # the standing verdict: the latest evaluation or return-visit answer


@dataclass
class CaseState:
    """One case in play: its script, its book and what has been done to it so far."""

    script: CaseScript
    book: Book
    primary: str | None  # the open case a duplicate links to (tried once)
    away: Callable[[], AbstractAsyncContextManager]  # a long wait: the slot goes to the next case
    rounds: int = 0  # evaluations given so far
    progressed: set[int] = field(default_factory=set)  # assignments a progress report was sent for
    declined: bool = False
    probed: bool = False
    returned: bool = False
    extension_asked: bool = False
    reworked: bool = False
    late_seen: bool = False  # the case was seen past its deadline before its verification

    @property
    def code(self) -> str:
        return self.book.code


METRICS = (
    "received",
    "accepted",
    "closed",
    "closed_on_time",
    "overdue",
    "returned",
    "reworked",
    "extended",
    "evaluated",
    "dissatisfied",
    "satisfaction_rate",
)
LABELS = {
    "received": "受理",
    "accepted": "立案",
    "closed": "办结",
    "closed_on_time": "按期办结",
    "overdue": "超期",
    "returned": "退单",
    "reworked": "返工",
    "extended": "延期",
    "evaluated": "参评",
    "dissatisfied": "不满意",
    "satisfaction_rate": "满意率",
}


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def count(books: list[Book], now: datetime) -> dict[str, Any]:
    """Every compared metric over ``books``, worded as api/statistics.py DEFINITIONS."""
    figures: dict[str, Any] = dict.fromkeys(METRICS, 0)
    satisfied = 0
    for book in books:
        figures["received"] += 1
        figures["accepted"] += book.accepted
        figures["returned"] += book.returns
        figures["reworked"] += book.reworks
        figures["extended"] += book.extensions
        if book.completed:
            figures["closed"] += 1
            figures["closed_on_time"] += bool(book.on_time) and not book.overdue_once
        if book.accepted:
            # The book's own reading of 超期 (a unit ran over once, or still holds it past its deadline),
            # not the API's function: the comparison with /stats is only a check if the two are apart.
            late_open = book.deadline is not None and book.step in OPEN_STEPS and book.deadline < now
            figures["overdue"] += book.overdue_once or (not book.completed and late_open)
        if book.verdict in ("satisfied", "basically_satisfied", "dissatisfied"):
            figures["evaluated"] += 1
            satisfied += book.verdict != "dissatisfied"
    figures["dissatisfied"] = figures["evaluated"] - satisfied
    figures["satisfaction_rate"] = _rate(satisfied, figures["evaluated"])
    return figures


def api_figures(row: dict) -> dict[str, Any]:
    """The compared metrics from one row of ``GET /stats``."""
    out = {metric: row.get(metric) for metric in METRICS if metric != "dissatisfied"}
    out["dissatisfied"] = row["evaluated"] - row["satisfied"]
    return out


@dataclass
class Line:
    """One group (a category, 未分类, or 合计) with the simulator's and the API's figures."""

    key: str | None
    label: str
    mine: dict[str, Any]
    api: dict[str, Any]

    def agrees(self, metric: str) -> bool:
        return self.mine.get(metric) == self.api.get(metric)

    @property
    def agree(self) -> bool:
        return all(self.agrees(metric) for metric in METRICS)


@dataclass
class Summary:
    cases: int
    seed: int
    started_at: datetime
    seconds: float
    policy_version: str | None
    demo: bool | None
    lines: list[Line]  # per category, then 合计 last
    agree: bool
    actions: Counter
    rejections: Counter  # (status, code) → count: business rejections the API answered
    errors: list[str]
    notes: list[str]

    @property
    def total(self) -> Line:
        return self.lines[-1]


def compare(books: list[Book], stats: dict, now: datetime) -> list[Line]:
    """The book grouped by category (未分类 for a case never accepted) next to ``GET /stats?by=category``'s
    rows: the API's categories in its order, then groups only the book has, then 合计."""
    api_rows = {row["key"]: row for row in stats["rows"]}
    groups: dict[str | None, list[Book]] = {}
    for book in books:
        groups.setdefault(book.category if book.accepted else None, []).append(book)
    order = [row["key"] for row in stats["rows"]] + sorted((key for key in groups if key not in api_rows), key=str)
    empty = dict.fromkeys(METRICS, 0) | {"satisfaction_rate": None}
    lines = []
    for key in order:
        row = api_rows.get(key)
        lines.append(
            Line(
                key,
                row["label"] if row else (key or UNCATEGORIZED),
                count(groups.get(key, []), now),
                api_figures(row) if row else dict(empty),
            )
        )
    lines.append(Line(None, TOTAL, count(books, now), api_figures(stats["total"])))
    return lines
