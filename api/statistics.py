"""考核统计 — the figures, their definitions (口径) and how groups are labelled and ordered.

Counting happens in SQL (``api/stats_sql.py``): each group comes back as :class:`Sums`, plain
additive counts, and :func:`finish` turns them into rates and stars here, with no database and no
clock, so every rule is testable by hand. ``DEFINITIONS`` is the one wording of each metric: the API
returns it with the figures, the page shows it and the workbook carries it as a sheet.

Two bases (``domain/accounting.py`` says who is charged with what):

* by ``unit`` — the **assignments** a unit held as 主办: what happened while it held them is charged
  to it (退单, 超期, 提级, 返工, 延期); closure and the verdict go to the unit whose completion was
  verified. A case therefore counts at every unit that held it.
* by ``area`` / ``category`` / ``channel`` / ``period`` and the total — the **cases**, once each.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

from domain.district import District, UnknownCode
from domain.labels import CHANNEL_LABELS
from domain.vocabulary import Channel, UnitKind

GroupBy = Literal["unit", "area", "category", "channel", "period"]
Period = Literal["day", "week", "month", "quarter"]
GROUPINGS: dict[str, str] = {
    "unit": "主办单位",
    "area": "镇街",
    "category": "事项类别",
    "channel": "受理渠道",
    "period": "期间",
}
PERIODS: dict[str, str] = {"day": "日", "week": "周", "month": "月", "quarter": "季度"}

NO_TOWN = "未划分镇街"
NO_CATEGORY = "未分类"

DEFINITIONS: dict[str, str] = {
    "received": "受理量：统计窗口内上报（按上报时间）的案件数，含不予受理、重复件等全部状态；按单位统计时不适用。",
    "accepted": "立案量：其中已立案的案件数；按单位统计时不适用。",
    "assigned": (
        "承办量（按单位）：该单位作为主办承接的派遣次数（派遣、改派、提级、重办各算一次）；按案件统计时不适用。"
    ),
    "closed": "办结量：办结且核查通过的案件数；按单位统计时计入核查通过的那次承办的单位。",
    "closed_on_time": "按期办结：办结且从未超期的案件（按单位：该次承办从未超期）。",
    "on_time_rate": "按期办结率 = 按期办结 ÷ 办结量；办结量为 0 时为“—”。",
    "due": "应办结：已办结，或曾超期、或仍在承办且已过办理时限（截至统计时点）。",
    "closure_rate": "结案率 = 办结量 ÷ 应办结；应办结为 0 时为“—”。",
    "overdue": (
        "超期：曾超过办理时限（红灯），或办结晚于时限，或仍在承办且已过时限。超期记在当时承办的单位，"
        "提级、改派或重新计时后仍计超期。"
    ),
    "returned": "退单：退单次数，记在退单的单位。",
    "escalated": "提级：因超期或中心决定提级至上级的次数，记在被提级的单位。",
    "reworked": "返工：核查未通过返工次数与群众不满意重办次数之和，记在承办的单位。",
    "extended": "延期：获批延期次数，记在申请的单位。",
    "evaluated": "参评：现行评价为满意、基本满意或不满意的案件数；回访答复晚于评价的以回访为准，未接通不计。",
    "satisfied": "满意：现行评价为满意或基本满意的案件数（按单位：计入办结单位）。",
    "satisfaction_rate": "满意率 = 满意 ÷ 参评；参评为 0 时为“—”。",
    "avg_handling_hours": (
        "平均办理时长（小时，1 位小数）：按案件为立案至办结，按单位为派遣至本单位办结；无办结时为“—”。"
    ),
    "stars": (
        "星级（1–5）：得分 = 0.3×按期办结率 + 0.3×结案率 + 0.2×满意率 + 0.2×(1 − min(1, (退单+返工+提级) ÷ 基数))，"
        "基数按单位为承办量、按案件为立案量；为“—”的比率不计入、其余权重按比例放大；"
        "星级 = max(1, min(5, 四舍五入(得分×5)))；应办结为 0 时为“—”（无可考核的案件，不给满分）。"
    ),
}
"""Metric → Chinese definition with its formula; returned by ``GET /stats`` as ``definitions``."""

UNIT_ONLY = ("assigned",)
CASE_ONLY = ("received", "accepted")


@dataclass
class Sums:
    """Additive counts of one group, as SQL returns them; two groups add up field by field."""

    received: int = 0
    accepted: int = 0
    assigned: int = 0
    closed: int = 0
    closed_on_time: int = 0
    due: int = 0
    overdue: int = 0
    returned: int = 0
    escalated: int = 0
    reworked: int = 0
    extended: int = 0
    evaluated: int = 0
    satisfied: int = 0
    handling_seconds: float = 0.0
    handled: int = 0

    def __add__(self, other: Sums) -> Sums:
        return Sums(**{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(Sums)})


@dataclass
class Figures:
    """One row of the report: a group's key and label, then every metric of ``DEFINITIONS``.

    ``received``/``accepted`` are ``None`` in unit rows and ``assigned`` in case rows (not applicable)."""

    key: str | None
    label: str
    received: int | None = None
    accepted: int | None = None
    assigned: int | None = None
    closed: int = 0
    closed_on_time: int = 0
    on_time_rate: float | None = None
    due: int = 0
    closure_rate: float | None = None
    overdue: int = 0
    returned: int = 0
    escalated: int = 0
    reworked: int = 0
    extended: int = 0
    evaluated: int = 0
    satisfied: int = 0
    satisfaction_rate: float | None = None
    avg_handling_hours: float | None = None
    stars: int | None = None

    def as_dict(self) -> dict:
        return asdict(self)


METRICS: tuple[str, ...] = tuple(f.name for f in fields(Figures) if f.name not in ("key", "label"))


def rate(numerator: int, denominator: int) -> float | None:
    return round(numerator / denominator, 4) if denominator else None


def star_rating(figures: Figures, base: int) -> int | None:
    """星级 per ``DEFINITIONS['stars']``: only rates that exist count; nothing due → no stars."""
    if figures.closure_rate is None or base == 0:
        return None
    penalty = min(1.0, (figures.returned + figures.reworked + figures.escalated) / base)
    parts = [
        (0.3, figures.on_time_rate),
        (0.3, figures.closure_rate),
        (0.2, figures.satisfaction_rate),
        (0.2, 1.0 - penalty),
    ]
    present = [(weight, value) for weight, value in parts if value is not None]
    score = sum(weight * value for weight, value in present) / sum(weight for weight, _ in present)
    # Decimal on the score rounded to 4 places: float noise (0.7000000000000001) never tips a half.
    scaled = (Decimal(str(round(score, 4))) * 5).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return max(1, min(5, int(scaled)))


def finish(sums: Sums, key: str | None, label: str, per_unit: bool) -> Figures:
    """Rates, average and stars of one group's counts."""
    figures = Figures(
        key=key,
        label=label,
        received=None if per_unit else sums.received,
        accepted=None if per_unit else sums.accepted,
        assigned=sums.assigned if per_unit else None,
        **{
            name: getattr(sums, name)
            for name in ("closed", "closed_on_time", "due", "overdue", "returned", "escalated", "reworked")
            + ("extended", "evaluated", "satisfied")
        },
    )
    figures.on_time_rate = rate(sums.closed_on_time, sums.closed)
    figures.closure_rate = rate(sums.closed, sums.due)
    figures.satisfaction_rate = rate(sums.satisfied, sums.evaluated)
    figures.avg_handling_hours = round(sums.handling_seconds / sums.handled / 3600, 1) if sums.handled else None
    figures.stars = star_rating(figures, sums.assigned if per_unit else sums.accepted)
    return figures


# --- groups: keys, labels and order ----------------------------------------------------------


def period_of(day: str, period: Period) -> tuple[str, str]:
    """(key, label) of the day / ISO week / month / quarter containing the Beijing-time ``day``."""
    local = date.fromisoformat(day)
    if period == "day":
        return day, day
    if period == "week":
        year, week, _ = local.isocalendar()
        return f"{year}-W{week:02d}", f"{year}年第{week}周"
    if period == "month":
        return f"{local.year}-{local.month:02d}", f"{local.year}年{local.month}月"
    if period == "quarter":
        quarter = (local.month - 1) // 3 + 1
        return f"{local.year}-Q{quarter}", f"{local.year}年第{quarter}季度"
    raise ValueError(f"unknown period: {period}")


def town_of(grid: str, district: District) -> tuple[str | None, str]:
    try:
        town = district.ancestor(grid, UnitKind.TOWN)
    except UnknownCode:
        return grid, grid
    return (town.code, town.name) if town else (None, NO_TOWN)


def group_of(raw: str | None, by: GroupBy, district: District, period: Period) -> tuple[str | None, str]:
    """(key, label) of the group a SQL group key (unit, grid, category, channel or day) falls in."""
    if by == "unit":
        return raw, district.unit_name(raw) if raw else "—"
    if by == "area":
        return town_of(raw or "", district)
    if by == "category":
        return (raw, _category_name(district, raw)) if raw else (None, NO_CATEGORY)
    if by == "channel":
        known = {c.value: c for c in Channel}
        return (raw, CHANNEL_LABELS[known[raw]]) if raw in known else (raw, raw or "未知")
    if by == "period":
        return period_of(raw, period) if raw else (None, "未知")
    raise ValueError(f"unknown grouping: {by}")


def _category_name(district: District, code: str) -> str:
    try:
        return district.category(code).name
    except UnknownCode:
        return code


def order_key(by: GroupBy, district: District):
    """Units in the district's order, periods chronologically, others by code; unknown last."""
    position = {u.code: i for i, u in enumerate(district.units)}
    categories = {c.code: i for i, c in enumerate(district.categories)}
    channels = [c.value for c in Channel]

    def key(item: tuple[str | None, str]):
        code, _ = item
        if by in ("unit", "area"):
            return (code is None, position.get(code or "", len(position)), code or "")
        if by == "category":
            return (code is None, categories.get(code or "", len(categories)), code or "")
        if by == "channel":
            return (code is None, channels.index(code) if code in channels else len(channels), code or "")
        return (code is None, code or "")

    return key


def ranking(rows: list[Figures]) -> list[Figures]:
    """排名 — units with stars first, best first; then by on-time rate, fewer overdue, more closed."""

    def key(row: Figures):
        return (
            row.stars is None,
            -(row.stars or 0),
            -(row.on_time_rate if row.on_time_rate is not None else -1),
            row.overdue,
            -row.closed,
            row.key or "",
        )

    return sorted((r for r in rows if r.key is not None), key=key)
