"""考核统计 — pure computation of the center's assessment figures over projected cases.

No database and no clock in here: the route selects the needed ``CaseRow`` columns in the
window and hands plain :class:`CaseRecord` values to :func:`compute`, with ``now`` injected, so
every figure is unit-testable by hand. ``DEFINITIONS`` is the single wording of each metric: the
API returns it with the figures, so an assessor reads exactly what was counted.

Groupings (:func:`group_of`):

* ``unit``   — the case's lead unit (主办单位) as projected, i.e. the unit that holds the case now
  or held it when it was completed; cases never dispatched (declined, merged, awaiting
  assignment) fall into one row with key ``None`` labelled 未派遣.
* ``area``   — the town (镇/街道) the case's grid belongs to.
* ``period`` — the Beijing-time (UTC+8) day ``YYYY-MM-DD``, ISO week ``YYYY-Www`` or month
  ``YYYY-MM`` of ``reported_at``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, fields
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

from domain.district import District, UnknownCode
from domain.vocabulary import LOCAL_TZ, UnitKind, Verdict
from domain.vocabulary import is_overdue as case_overdue

GroupBy = Literal["unit", "area", "period"]
Period = Literal["day", "week", "month"]

UNDISPATCHED = "未派遣"
NO_TOWN = "未划分镇街"

EVALUATED = (Verdict.SATISFIED.value, Verdict.BASICALLY_SATISFIED.value, Verdict.DISSATISFIED.value)
SATISFIED = (Verdict.SATISFIED.value, Verdict.BASICALLY_SATISFIED.value)

DEFINITIONS: dict[str, str] = {
    "received": "受理量：统计窗口内上报（reported_at）的案件数，含不予受理、重复件等全部状态。",
    "accepted": "立案量：已立案（accepted_at 不为空）的案件数。",
    "closed": "办结量：承办结果经核查通过（completed_at 不为空）的案件数。",
    "closed_on_time": "按期办结：办结且 completed_at ≤ 办理时限（时限含已批准的延期；无时限的视为按期）的案件数。",
    "on_time_rate": "按期办结率 = 按期办结 ÷ 办结量；办结量为 0 时为空。",
    "due": "应办结：已立案且已办结，或办理时限已过（截至统计时点）的案件数。",
    "closure_rate": "结案率 = 办结量 ÷ 应办结；应办结为 0 时为空。",
    "overdue": "超期：已立案且（completed_at > 办理时限，或未办结、处于派遣/处置环节且时限已过）的案件数。",
    "returned": "退单次数 = Σ 各案件退单次数。",
    "reworked": "返工次数 = Σ 各案件核查未通过返工次数。",
    "extended": "延期次数 = Σ 各案件获批延期次数。",
    "evaluated": "参评：最近一次评价结果为满意、基本满意或不满意的案件数（未评价/未接通不计）。",
    "satisfied": "满意：最近一次评价为满意或基本满意的案件数。",
    "satisfaction_rate": "满意率 = 满意 ÷ 参评；参评为 0 时为空。",
    "avg_handling_hours": "平均办理时长 = 办结案件 (completed_at − accepted_at) 的平均小时数，"
    "保留 1 位小数；无办结案件时为空。",
    "stars": (
        "星级（1–5）：得分 = 0.4×按期办结率 + 0.4×满意率 + 0.2×(1 − min(1, (退单次数+返工次数) ÷ max(立案量,1)))，"
        "比率为空时按 1 计；星级 = max(1, min(5, 四舍五入(得分×5)))；立案量为 0 时为空。"
    ),
}
"""Metric → Chinese definition with its formula; returned by ``GET /stats`` as ``definitions``."""


@dataclass(frozen=True)
class CaseRecord:
    """The columns of one projected case (``CaseRow``) that the figures need."""

    case_code: str
    grid: str
    step: str
    lead_unit: str | None = None
    deadline: datetime | None = None
    returns: int = 0
    reworks: int = 0
    extensions: int = 0
    verdict: str | None = None
    reported_at: datetime | None = None
    accepted_at: datetime | None = None
    completed_at: datetime | None = None


RECORD_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(CaseRecord))


@dataclass
class Figures:
    """One row of the report: a group's key and label, then every metric of ``DEFINITIONS``."""

    key: str | None
    label: str
    received: int = 0
    accepted: int = 0
    closed: int = 0
    closed_on_time: int = 0
    on_time_rate: float | None = None
    due: int = 0
    closure_rate: float | None = None
    overdue: int = 0
    returned: int = 0
    reworked: int = 0
    extended: int = 0
    evaluated: int = 0
    satisfied: int = 0
    satisfaction_rate: float | None = None
    avg_handling_hours: float | None = None
    stars: int | None = None

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class StatsReport:
    by: str
    generated_at: datetime
    definitions: dict[str, str]
    rows: list[Figures]
    total: Figures


# --- single-case predicates ------------------------------------------------------------------


def is_closed(r: CaseRecord) -> bool:
    return r.completed_at is not None


def is_on_time(r: CaseRecord) -> bool:
    return is_closed(r) and (r.deadline is None or r.completed_at <= r.deadline)


def is_due(r: CaseRecord, now: datetime) -> bool:
    return r.accepted_at is not None and (is_closed(r) or (r.deadline is not None and r.deadline < now))


def is_overdue(r: CaseRecord, now: datetime) -> bool:
    """The domain's 超期 rule, counted among accepted cases (DEFINITIONS['overdue'])."""
    return r.accepted_at is not None and case_overdue(r.step, r.deadline, r.completed_at, now)


# --- aggregation -----------------------------------------------------------------------------


def rate(numerator: int, denominator: int) -> float | None:
    return round(numerator / denominator, 4) if denominator else None


def star_rating(
    on_time_rate: float | None, satisfaction_rate: float | None, returned: int, reworked: int, accepted: int
) -> int | None:
    """星级 per ``DEFINITIONS['stars']``; rounding is half-up (3.5 → 4, 2.5 → 3)."""
    if accepted == 0:
        return None
    penalty = min(1.0, (returned + reworked) / max(accepted, 1))
    score = (
        0.4 * (1.0 if on_time_rate is None else on_time_rate)
        + 0.4 * (1.0 if satisfaction_rate is None else satisfaction_rate)
        + 0.2 * (1.0 - penalty)
    )
    # Decimal on the score rounded to 4 places: float noise (0.7000000000000001) never tips a half.
    scaled = (Decimal(str(round(score, 4))) * 5).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return max(1, min(5, int(scaled)))


def figures(records: Iterable[CaseRecord], now: datetime, key: str | None = None, label: str = "合计") -> Figures:
    """Every metric over ``records`` (already restricted to the window), as of ``now``."""
    f = Figures(key=key, label=label)
    hours: list[float] = []
    for r in records:
        f.received += 1
        f.accepted += r.accepted_at is not None
        f.returned += r.returns
        f.reworked += r.reworks
        f.extended += r.extensions
        if is_closed(r):
            f.closed += 1
            f.closed_on_time += is_on_time(r)
            if r.accepted_at is not None:
                hours.append((r.completed_at - r.accepted_at).total_seconds() / 3600)
        f.due += is_due(r, now)
        f.overdue += is_overdue(r, now)
        if r.verdict in EVALUATED:
            f.evaluated += 1
            f.satisfied += r.verdict in SATISFIED
    f.on_time_rate = rate(f.closed_on_time, f.closed)
    f.closure_rate = rate(f.closed, f.due)
    f.satisfaction_rate = rate(f.satisfied, f.evaluated)
    f.avg_handling_hours = round(sum(hours) / len(hours), 1) if hours else None
    f.stars = star_rating(f.on_time_rate, f.satisfaction_rate, f.returned, f.reworked, f.accepted)
    return f


# --- grouping --------------------------------------------------------------------------------


def beijing(at: datetime) -> datetime:
    if at.tzinfo is None:
        raise ValueError("naive datetime: every instant in closeloop is timezone-aware")
    return at.astimezone(LOCAL_TZ)


def period_of(at: datetime, period: Period) -> tuple[str, str]:
    """(key, label) of the Beijing-time day / ISO week / month containing ``at``."""
    local = beijing(at)
    if period == "day":
        key = local.strftime("%Y-%m-%d")
        return key, key
    if period == "week":
        year, week, _ = local.isocalendar()
        return f"{year}-W{week:02d}", f"{year}年第{week}周"
    if period == "month":
        return local.strftime("%Y-%m"), f"{local.year}年{local.month}月"
    raise ValueError(f"unknown period: {period}")


def group_of(r: CaseRecord, by: GroupBy, district: District, period: Period = "month") -> tuple[str | None, str]:
    """(key, label) of the group ``r`` is counted in."""
    if by == "unit":
        return (r.lead_unit, district.unit_name(r.lead_unit)) if r.lead_unit else (None, UNDISPATCHED)
    if by == "area":
        try:
            town = district.ancestor(r.grid, UnitKind.TOWN)
        except UnknownCode:
            return r.grid, r.grid
        return (town.code, town.name) if town else (None, NO_TOWN)
    if by == "period":
        if r.reported_at is None:
            return None, "未知"
        return period_of(r.reported_at, period)
    raise ValueError(f"unknown grouping: {by}")


def _order(by: GroupBy, district: District):
    position = {u.code: i for i, u in enumerate(district.units)}

    def key(item: tuple[str | None, str]):
        code, _ = item
        if by == "period":
            return (code is None, code or "")
        return (code is None, position.get(code or "", len(position)), code or "")

    return key


def compute(
    records: Iterable[CaseRecord], by: GroupBy, district: District, now: datetime, period: Period = "month"
) -> StatsReport:
    """The report: one row per group (units in the district's order, periods chronologically,
    the 未派遣 / unknown group last) and the total over all records."""
    records = list(records)
    groups: dict[tuple[str | None, str], list[CaseRecord]] = {}
    for r in records:
        groups.setdefault(group_of(r, by, district, period), []).append(r)
    rows = [figures(groups[g], now, *g) for g in sorted(groups, key=_order(by, district))]
    return StatsReport(by=by, generated_at=now, definitions=dict(DEFINITIONS), rows=rows, total=figures(records, now))
