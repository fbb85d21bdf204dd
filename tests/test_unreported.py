"""应报未报（倒逼）: the rule of ``api/unreported.py`` by hand, then ``GET /stats/unreported`` and its
page on the real stack over cases seeded into the projection."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, delete

from api.errors import ApiError
from api.unreported import Member, PatrolCase, compute, patrol_categories, window
from domain.district import District
from domain.vocabulary import LOCAL_TZ
from store.tables import CaseRow
from tests.api_support import TEST_PASSWORD, api_stack, as_

DISTRICT = District.load()
G1, G2, G3 = "G-LS-XL-01", "G-LS-XL-02", "G-TF-TF-01"
NOW = datetime(2026, 5, 20, tzinfo=UTC)


def bj(*args: int) -> datetime:
    """An instant in Beijing time."""
    return datetime(*args, tzinfo=LOCAL_TZ)


def case(code: str, channel: str, grid: str, category: str | None, at: datetime, registered: bool = True):
    return PatrolCase(code, channel, grid, category, at, registered)


# 劳动节 2026 (May 1–5) lies inside the lookback: N counts calendar days, holidays or not.
START, END = bj(2026, 5, 1), bj(2026, 5, 15)
CASES = [
    case("g1", "grid", G1, "SR-001", bj(2026, 4, 30, 10)),  # before the window: still covers
    case("a", "hotline_12345", G1, "SR-001", bj(2026, 5, 7, 10)),  # exactly 7 days after g1: covered
    case("b", "mini_program", G1, "SR-001", bj(2026, 5, 7, 10, 0, 1)),  # one second later: 应报未报
    case("c", "police_110", G1, "SR-001", bj(2026, 5, 3, 9)),  # covered
    case("d", "hotline_12345", G2, "SR-001", bj(2026, 5, 2)),  # g1 is another grid's: 应报未报
    case("e", "hotline_12345", G1, "SR-002", bj(2026, 5, 2)),  # another category: 应报未报
    case("f", "hotline_12345", G1, "JM-002", bj(2026, 5, 2)),  # 违规停车: not 巡查应发现
    case("g", "window", G1, "SR-001", bj(2026, 5, 2)),  # 窗口 is not a citizen channel checked here
    case("h", "hotline_12345", G1, "SR-001", bj(2026, 5, 2), registered=False),  # not registered
    case("i", "hotline_12345", G1, "SR-001", bj(2026, 4, 30, 12)),  # before the window
    case("j", "hotline_12345", G1, "SR-002", END),  # the window's end is excluded
    case("k", "hotline_12345", G3, "SR-003", bj(2026, 5, 10, 9, 59)),  # the grid reported a minute later
    case("g2", "grid", G3, "SR-003", bj(2026, 5, 10, 10)),
    case("l", "hotline_12345", G3, "SR-003", bj(2026, 5, 10, 10)),  # same instant as g2: covered
    case("g3", "grid", G2, "SR-002", bj(2026, 5, 5), registered=False),  # a grid report not (yet) registered
    case("m", "hotline_12345", G2, "SR-002", bj(2026, 5, 6)),  # … still covers
    case("g4", "grid", G2, None, bj(2026, 5, 1)),  # a grid report without category covers nothing
]
MEMBERS = [
    Member("grid-wang", "王网格", "verifier", G1),
    Member("grid-li", "李网格", "unit_staff", G1),
    Member("grid-zhao", "赵网格", "verifier", "G-ZT-ZT-01"),  # a grid with nothing to check: not listed
]


def test_the_sample_district_flags_patrol_categories_and_sets_n():
    flagged = patrol_categories(DISTRICT)
    assert {"SR-001", "SR-002", "SR-003", "GS-002"} <= flagged and "JM-002" not in flagged and "MD-001" not in flagged
    assert DISTRICT.unreported_lookback_days == 7
    with pytest.raises(ValueError):
        DISTRICT.model_validate({**DISTRICT.model_dump(), "unreported_lookback_days": 0})


def test_unreported_by_grid_and_member_by_hand():
    report = compute(CASES, MEMBERS, DISTRICT, START, END, NOW)
    rows = {g.grid: g for g in report.grids}
    assert [g.grid for g in report.grids] == [G1, G2, G3]  # most 应报未报 first, then by code
    assert (rows[G1].checked, rows[G1].unreported) == (4, 2)  # a, b, c, e checked
    assert [c.case_code for c in rows[G1].cases] == ["e", "b"]  # in report order
    assert (rows[G2].checked, [c.case_code for c in rows[G2].cases]) == (2, ["d"])
    assert (rows[G3].checked, [c.case_code for c in rows[G3].cases]) == (2, ["k"])
    assert (report.checked, report.unreported, report.lookback_days) == (8, 4, 7)
    assert rows[G1].members == ["grid-li", "grid-wang"] and rows[G2].members == []
    assert rows[G1].grid_name == "龙山街道西楼社区第1网格" and rows[G3].town_name == "天福街道综治分中心"
    e = rows[G1].cases[0]
    assert (e.category, e.category_name, e.channel) == ("SR-002", "暴露垃圾", "hotline_12345")
    # every member of the grid answers for the grid's cases; members of grids with nothing checked are not listed
    assert [(m.login, m.unreported, m.case_codes) for m in report.members] == [
        ("grid-li", 2, ["e", "b"]),
        ("grid-wang", 2, ["e", "b"]),
    ]
    assert "应报未报" in report.definitions["unreported"] and "恰好 N 天前" in report.definitions["unreported"]


def test_n_is_the_district_setting():
    three = DISTRICT.model_copy(update={"unreported_lookback_days": 3})
    rows = {g.grid: g for g in compute(CASES, MEMBERS, three, START, END, NOW).grids}
    assert [c.case_code for c in rows[G1].cases] == ["e", "a", "b"]  # g1 is now too old for a; c is 2d23h after
    unflagged = DISTRICT.model_copy(
        update={"categories": [c.model_copy(update={"patrol_findable": False}) for c in DISTRICT.categories]}
    )
    assert compute(CASES, MEMBERS, unflagged, START, END, NOW).grids == []


def test_the_window_reads_like_stats_and_is_bounded():
    now = datetime(2026, 5, 20, 4, tzinfo=UTC)
    start, end = window(datetime(2026, 5, 1), datetime(2026, 5, 2), now)
    assert start == bj(2026, 5, 1) and end == bj(2026, 5, 2)  # naive: Beijing time
    assert window(None, None, now) == (now - timedelta(days=30), now)
    assert window(None, bj(2026, 3, 1), now) == (bj(2026, 1, 30), bj(2026, 3, 1))
    for bad in [(bj(2026, 5, 2), bj(2026, 5, 2)), (bj(2025, 1, 1), bj(2026, 5, 1)), (datetime(1999, 1, 1), None)]:
        with pytest.raises(ApiError) as err:
            window(*bad, now)
        assert err.value.status == 422


# --- the real stack ----------------------------------------------------------------------------

SUP = as_("k-supervisor")


def seeded(prefix: str) -> list[CaseRow]:
    """2021, far from any other test's cases; G-ZT-BQ-01 has no member accounts."""

    def row(n: int, channel: str, grid: str, category: str, at: datetime, registered: bool = True) -> CaseRow:
        return CaseRow(
            case_code=f"{prefix}-{n:06d}",
            channel=channel,
            grid=grid,
            step="dispatch" if registered else "create",
            category=category,
            reported_at=at,
            accepted_at=at + timedelta(hours=1) if registered else None,
        )

    return [
        row(1, "grid", G1, "SR-001", bj(2021, 2, 26, 10), registered=False),  # before the window
        row(2, "hotline_12345", G1, "SR-001", bj(2021, 3, 5, 10)),  # exactly 7 days later: covered
        row(3, "hotline_12345", G1, "SR-001", bj(2021, 3, 5, 10, 0, 1)),  # 应报未报
        row(4, "mini_program", "G-ZT-BQ-01", "GS-001", bj(2021, 3, 8)),  # 应报未报, no members
        row(5, "police_110", G1, "JM-002", bj(2021, 3, 9)),  # not 巡查应发现
        row(6, "hotline_12345", G1, "SR-001", bj(2021, 3, 9), registered=False),  # not registered
    ]


async def test_unreported_on_the_real_stack(engine, dev_env):
    prefix = f"UR{uuid.uuid4().hex[:6].upper()}"
    rows = seeded(prefix)
    codes = [r.case_code for r in rows]
    with Session(engine) as session:
        session.add_all(rows)
        session.commit()
    try:
        async with api_stack(engine, dev_env) as s:
            params = {"reported_from": "2021-03-01", "reported_to": "2021-03-15"}
            r = await s.http.get("/stats/unreported", params=params, headers=SUP)
            assert r.status_code == 200, r.text
            body = r.json()
            assert datetime.fromisoformat(body["reported_from"]) == bj(2021, 3, 1) and body["lookback_days"] == 7
            assert (body["checked"], body["unreported"]) == (3, 2)
            grids = {g["grid"]: g for g in body["grids"]}
            assert list(grids) == [G1, "G-ZT-BQ-01"]
            assert [c["case_code"] for c in grids[G1]["cases"]] == [f"{prefix}-000003"]
            assert grids[G1]["checked"] == 2 and {"k-verifier", "k-G-LS-XL-01"} <= set(grids[G1]["members"])
            assert [c["case_code"] for c in grids["G-ZT-BQ-01"]["cases"]] == [f"{prefix}-000004"]
            assert grids["G-ZT-BQ-01"]["members"] == []
            verifier = next(m for m in body["members"] if m["login"] == "k-verifier")
            assert (verifier["grid"], verifier["unreported"], verifier["case_codes"]) == (G1, 1, [f"{prefix}-000003"])
            assert "应报未报" in body["definitions"]["unreported"]
            exported = await s.http.get("/stats/unreported.csv", params=params, headers=SUP)
            assert exported.status_code == 200 and exported.text.startswith("\ufeff网格编码,网格,镇街")
            table = list(csv.reader(io.StringIO(exported.text.lstrip("\ufeff"))))
            grid_lines = table[1 : table.index([])]
            assert [(line[0], line[3], line[4], line[5]) for line in grid_lines] == [
                (g["grid"], str(g["checked"]), str(g["unreported"]), " ".join(c["case_code"] for c in g["cases"]))
                for g in body["grids"]
            ]
            member_lines = table[table.index([]) + 2 :]
            assert [(line[0], line[4]) for line in member_lines] == [
                (m["login"], str(m["unreported"])) for m in body["members"]
            ]
            assert (await s.http.get("/stats/unreported.csv", headers=as_("k-D-JJ"))).status_code == 403

            assert (await s.http.get("/stats/unreported", params=params, headers=as_("k-admin"))).status_code == 200
            for key in ("k-D-JJ", "k-verifier", "k-intake"):
                assert (await s.http.get("/stats/unreported", headers=as_(key))).status_code == 403
            for bad in (
                {"reported_from": "2021-03-15", "reported_to": "2021-03-01"},
                {"reported_from": "2020-01-01", "reported_to": "2021-03-01"},
                {"reported_from": "yesterday"},
                {"reported_to": "9999-12-31T00:00:00"},
            ):
                r = await s.http.get("/stats/unreported", params=bad, headers=SUP)
                assert r.status_code == 422 and r.json()["error"]["code"], (bad, r.text)

            await sign_in(s, "k-supervisor")
            page = await s.http.get("/ui/stats/unreported", params={"start": "2021-03-01", "end": "2021-03-14"})
            download = await s.http.get("/ui/stats/unreported.csv", params={"start": "2021-03-01", "end": "2021-03-14"})
            assert download.status_code == 200 and download.text == exported.text  # the page's days = the API window
            assert page.status_code == 200 and "<title>应报未报" in page.text
            assert f'href="/ui/cases/{prefix}-000003"' in page.text and f"/ui/cases/{prefix}-000004" in page.text
            assert f"{prefix}-000002" not in page.text and "未绑定网格员账号" in page.text and "口径" in page.text
            assert (
                "开始日期须不晚于结束日期"
                in (await s.http.get("/ui/stats/unreported?start=2021-03-02&end=2021-03-01")).text
            )
            await sign_in(s, "k-D-JJ")
            denied = await s.http.get("/ui/stats/unreported")
            assert denied.status_code == 403 and "仅供综治中心" in denied.text
    finally:
        with Session(engine) as session:  # other tests count every case of all time
            session.exec(delete(CaseRow).where(CaseRow.case_code.in_(codes)))
            session.commit()


async def sign_in(s, login: str) -> None:
    r = await s.http.post("/ui/login", data={"login": login, "password": TEST_PASSWORD})
    assert r.status_code == 303, r.text
