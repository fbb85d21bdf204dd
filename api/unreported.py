"""应报未报（倒逼）— what citizens reported before the grid's own patrol did.

Wendeng's 倒逼 check: a problem a grid member should find on patrol (the category's
``patrol_findable``, 巡查应发现) that reached the center through a citizen channel first counts
against the grid. The 口径 is ``DEFINITION`` below; the pure functions work on plain
:class:`PatrolCase` / :class:`Member` records so every count can be computed by hand, and
:func:`load` is the SQL selection on the ``cases`` projection and the accounts (blocking: routes
call it through ``Database.run``).

网格员 (members): the active accounts bound to the grid unit itself — verifiers (核查员, the grid's
网格员 checking results on site) and the grid's unit staff (who handle grid-level tasks). A grid
report does not say which member filed it (the grid channel's key names the channel, not the
person), so every member of a grid answers for all of that grid's 应报未报 cases.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from pydantic import BaseModel, Field
from sqlmodel import Session, select

from api.errors import ApiError
from api.queries import aware
from domain.district import District, UnknownCode
from domain.vocabulary import Channel, Role, UnitKind
from store.accounts import UserRow
from store.db import Database
from store.tables import CaseRow

CITIZEN_CHANNELS = (Channel.HOTLINE.value, Channel.MINI_PROGRAM.value, Channel.POLICE_110.value)
MEMBER_ROLES = (Role.VERIFIER.value, Role.UNIT_STAFF.value)
DEFAULT_WINDOW = timedelta(days=30)  # no reported_from: the 30 days before reported_to
MAX_WINDOW = timedelta(days=366)

DEFINITION = (
    "应报未报（倒逼）：上报时间在统计窗口 [起, 止) 内、经 12345 热线、小程序或 110 非警务警情渠道上报、"
    "已立案（不含不予受理、重复件、未立案）且事件分类标为“巡查应发现”的案件，若在其上报时刻 t 之前 N 天内"
    "（[t − N×24 小时, t]，两端均含：恰好 N 天前的网格上报算已报）同一网格没有网格员巡查（grid 渠道）上报的"
    "同一分类案件，计为该网格应报未报 1 件。网格员上报可早于统计窗口起点；晚于 t 的不算已报；任何状态都算"
    "（含不予受理、重复件），分类按立案分类，未立案的按上报时的建议分类。N 为辖区文件的 unreported_lookback_days。"
)
DEFINITIONS: dict[str, str] = {
    "unreported": DEFINITION,
    "checked": "应发现：窗口内经市民渠道上报、已立案、分类为“巡查应发现”的案件数（应报未报的分母）。",
    "members": "网格员：绑定到该网格单位本身的在用核查员、承办人员账号；网格员上报不记录具体人员，"
    "故每名网格员计其网格的全部应报未报案件。",
}


@dataclass(frozen=True)
class PatrolCase:
    """案件 — the projected columns of one case (``CaseRow``) that the check reads."""

    case_code: str
    channel: str
    grid: str
    category: str | None
    reported_at: datetime
    registered: bool = True  # 已立案: accepted_at is set


@dataclass(frozen=True)
class Member:
    """网格员 — an active account bound to a grid unit."""

    login: str
    name: str
    role: str
    grid: str


class UnreportedCase(BaseModel):
    """一件应报未报案件."""

    case_code: str
    channel: str
    category: str
    category_name: str
    reported_at: datetime


class GridRow(BaseModel):
    grid: str
    grid_name: str
    town_name: str | None = Field(description="所属镇街")
    checked: int = Field(description=DEFINITIONS["checked"])
    unreported: int = Field(description=DEFINITION)
    cases: list[UnreportedCase] = Field(description="应报未报的案件")
    members: list[str] = Field(description="该网格的网格员（登录名）；空：未绑定账号")


class MemberRow(BaseModel):
    login: str
    name: str
    role: str
    grid: str
    grid_name: str
    unreported: int = Field(description=DEFINITIONS["members"])
    case_codes: list[str]


class UnreportedReport(BaseModel):
    reported_from: datetime
    reported_to: datetime
    lookback_days: int = Field(description="回溯天数 N（辖区文件 unreported_lookback_days）")
    generated_at: datetime
    definitions: dict[str, str]
    categories: list[str] = Field(description="巡查应发现的事件分类")
    checked: int
    unreported: int
    grids: list[GridRow] = Field(description="有应发现案件的网格，应报未报多者在前")
    members: list[MemberRow] = Field(description="这些网格的网格员，应报未报多者在前")


# --- the rule ----------------------------------------------------------------------------------


def patrol_categories(district: District) -> frozenset[str]:
    return frozenset(c.code for c in district.categories if c.patrol_findable)


def is_checked(case: PatrolCase, categories: frozenset[str], start: datetime, end: datetime) -> bool:
    """应发现: a registered citizen-channel case of a 巡查应发现 category reported in [start, end)."""
    return (
        case.channel in CITIZEN_CHANNELS
        and case.registered
        and case.category in categories
        and start <= case.reported_at < end
    )


def grid_reports(cases: Iterable[PatrolCase]) -> dict[tuple[str, str], list[datetime]]:
    """网格员上报 by (grid, category): their report instants, sorted."""
    index: dict[tuple[str, str], list[datetime]] = defaultdict(list)
    for c in cases:
        if c.channel == Channel.GRID.value and c.category:
            index[(c.grid, c.category)].append(c.reported_at)
    for instants in index.values():
        instants.sort()
    return index


def reported_by_grid(case: PatrolCase, index: dict[tuple[str, str], list[datetime]], days: int) -> bool:
    """Whether the grid reported the same category within [t − N days, t] (both ends included)."""
    instants = index.get((case.grid, case.category or ""), [])
    first = bisect_left(instants, case.reported_at - timedelta(days=days))
    return first < len(instants) and instants[first] <= case.reported_at


def unreported_by_grid(
    cases: list[PatrolCase], categories: frozenset[str], days: int, start: datetime, end: datetime
) -> tuple[dict[str, int], dict[str, list[PatrolCase]]]:
    """Per grid: how many cases were 应发现, and which of them are 应报未报 (in report order)."""
    index = grid_reports(cases)
    checked: dict[str, int] = defaultdict(int)
    missed: dict[str, list[PatrolCase]] = defaultdict(list)
    for case in sorted(cases, key=lambda c: (c.reported_at, c.case_code)):
        if is_checked(case, categories, start, end):
            checked[case.grid] += 1
            if not reported_by_grid(case, index, days):
                missed[case.grid].append(case)
    return checked, missed


# --- the report --------------------------------------------------------------------------------


def _names(district: District, grid: str) -> tuple[str, str | None]:
    try:
        town = district.ancestor(grid, UnitKind.TOWN)
    except UnknownCode:  # a grid since removed from the district file
        town = None
    return district.unit_name(grid), town.name if town else None


def _case(district: District, c: PatrolCase) -> UnreportedCase:
    try:
        name = district.category(c.category or "").name
    except UnknownCode:
        name = c.category or ""
    return UnreportedCase(
        case_code=c.case_code,
        channel=c.channel,
        category=c.category or "",
        category_name=name,
        reported_at=c.reported_at,
    )


def compute(
    cases: list[PatrolCase], members: list[Member], district: District, start: datetime, end: datetime, now: datetime
) -> UnreportedReport:
    """应报未报 per grid and per member over the citizen cases reported in [start, end)."""
    categories, days = patrol_categories(district), district.unreported_lookback_days
    checked, missed = unreported_by_grid(cases, categories, days, start, end)
    staff: dict[str, list[Member]] = defaultdict(list)
    for m in sorted(members, key=lambda m: m.login):
        staff[m.grid].append(m)
    grids = []
    for grid in checked:
        grid_name, town_name = _names(district, grid)
        grids.append(
            GridRow(
                grid=grid,
                grid_name=grid_name,
                town_name=town_name,
                checked=checked[grid],
                unreported=len(missed[grid]),
                cases=[_case(district, c) for c in missed[grid]],
                members=[m.login for m in staff[grid]],
            )
        )
    grids.sort(key=lambda g: (-g.unreported, g.grid))
    people = [
        MemberRow(
            login=m.login,
            name=m.name,
            role=m.role,
            grid=g.grid,
            grid_name=g.grid_name,
            unreported=g.unreported,
            case_codes=[c.case_code for c in g.cases],
        )
        for g in grids
        for m in staff[g.grid]
    ]
    return UnreportedReport(
        reported_from=start,
        reported_to=end,
        lookback_days=days,
        generated_at=now,
        definitions=DEFINITIONS,
        categories=sorted(categories),
        checked=sum(g.checked for g in grids),
        unreported=sum(g.unreported for g in grids),
        grids=grids,
        members=people,  # grids' order (most 应报未报 first), then login
    )


# --- window and selection ----------------------------------------------------------------------


def window(reported_from: datetime | None, reported_to: datetime | None, now: datetime) -> tuple[datetime, datetime]:
    """[起, 止) as ``GET /stats`` reads it (naive = Beijing time); missing ends default to the 30 days
    up to now. 422 for an empty, reversed or over-a-year window."""
    end = aware(reported_to) or now
    start = aware(reported_from) or end - DEFAULT_WINDOW
    if start >= end:
        raise ApiError(422, "InvalidInput", "统计区间无效：reported_from 须早于 reported_to")
    if end - start > MAX_WINDOW:
        raise ApiError(422, "InvalidInput", f"统计区间过长：最长 {MAX_WINDOW.days} 天")
    return start, end


def select_cases(
    session: Session, categories: frozenset[str], days: int, start: datetime, end: datetime
) -> list[PatrolCase]:
    """The citizen cases that may be 应发现 and the grid reports that may cover them; a superset that
    :func:`compute` decides on (channel, category and grid are indexed columns of ``cases``)."""
    if not categories:
        return []
    columns = (CaseRow.case_code, CaseRow.channel, CaseRow.grid, CaseRow.category, CaseRow.reported_at)
    citizen = select(*columns).where(
        CaseRow.channel.in_(CITIZEN_CHANNELS),
        CaseRow.category.in_(sorted(categories)),
        CaseRow.accepted_at.is_not(None),
        CaseRow.reported_at >= start,
        CaseRow.reported_at < end,
    )
    grid = select(*columns).where(
        CaseRow.channel == Channel.GRID.value,
        CaseRow.category.in_(sorted(categories)),
        CaseRow.reported_at >= start - timedelta(days=days),
        CaseRow.reported_at < end,
    )
    found = [PatrolCase(**row._asdict()) for row in session.exec(citizen).all()]
    return found + [PatrolCase(**row._asdict()) for row in session.exec(grid).all()]


def select_members(session: Session, grids: Iterable[str]) -> list[Member]:
    stmt = select(UserRow.login, UserRow.name, UserRow.role, UserRow.unit).where(
        UserRow.unit.in_(sorted(set(grids))), UserRow.role.in_(MEMBER_ROLES), UserRow.active.is_(True)
    )
    return [Member(login, name, role, unit) for login, name, role, unit in session.exec(stmt).all()]


def load(db: Database, district: District, start: datetime, end: datetime, now: datetime) -> UnreportedReport:
    """Blocking: select from the projection and the accounts, then :func:`compute`."""
    categories, days = patrol_categories(district), district.unreported_lookback_days
    with db.reading() as session:
        cases = select_cases(session, categories, days, start, end)
        members = select_members(session, {c.grid for c in cases if c.channel in CITIZEN_CHANNELS})
    return compute(cases, members, district, start, end, now)
