"""考核统计: the pure figures of ``api/statistics.py`` by hand, then ``GET /stats`` on the real stack."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from api.statistics import (
    DEFINITIONS,
    CaseRecord,
    Figures,
    compute,
    figures,
    group_of,
    is_due,
    is_on_time,
    is_overdue,
    period_of,
    star_rating,
)
from domain.district import District
from tests.api_support import api_stack, as_
from tests.support import eventually

NOW = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)
DISTRICT = District.load()
METRICS = [f for f in Figures.__dataclass_fields__ if f not in ("key", "label")]


def h(hours: float) -> datetime:
    """``hours`` from NOW (negative: in the past)."""
    return NOW + timedelta(hours=hours)


def case(
    code: str,
    step: str = "handle",
    *,
    grid: str = "G-LS-XL-01",
    lead: str | None = "D-JJ",
    reported: datetime | None = None,
    **kw,
) -> CaseRecord:
    return CaseRecord(case_code=code, grid=grid, step=step, lead_unit=lead, reported_at=reported or h(-100), **kw)


# A: declined; B: closed on time, satisfied; C: closed late after a rework, dissatisfied;
# D: open in 处置, past its deadline, returned twice; E: open in 派遣, not yet due, extended once;
# F: waiting for 核查 past the deadline (due, but not overdue: the unit has answered);
# G: closed on time, citizen never answered; H: closed exactly at the deadline, basically satisfied.
A = case("A", "declined", lead=None)
B = case("B", "evaluate", accepted_at=h(-10), completed_at=h(-4), deadline=h(20), verdict="satisfied")
C = case("C", "evaluate", accepted_at=h(-50), completed_at=h(-2), deadline=h(-10), verdict="dissatisfied", reworks=1)
D = case("D", "handle", accepted_at=h(-30), deadline=h(-1), returns=2)
E = case("E", "dispatch", accepted_at=h(-1), deadline=h(48), extensions=1)
F = case("F", "verify", accepted_at=h(-30), deadline=h(-1))
G = case("G", "evaluate", accepted_at=h(-6), completed_at=h(-2), deadline=h(1), verdict="no_answer")
H = case("H", "closed", accepted_at=h(-15), completed_at=h(-3), deadline=h(-3), verdict="basically_satisfied")
ALL = [A, B, C, D, E, F, G, H]


def test_single_case_predicates():
    assert [is_on_time(r) for r in ALL] == [False, True, False, False, False, False, True, True]
    assert [is_due(r, NOW) for r in ALL] == [False, True, True, True, False, True, True, True]
    assert [is_overdue(r, NOW) for r in ALL] == [False, False, True, True, False, False, False, False]
    # the same open case is not overdue an hour before its deadline
    assert not is_overdue(D, h(-2)) and not is_due(D, h(-2))


def test_every_metric_by_hand():
    f = figures(ALL, NOW)
    assert (f.key, f.label) == (None, "合计")
    assert f.received == 8  # every case, the declined one included
    assert f.accepted == 7  # all but A
    assert f.closed == 4  # B C G H
    assert f.closed_on_time == 3  # B G H (H exactly at its deadline)
    assert f.on_time_rate == 0.75
    assert f.due == 6  # B C G H closed, D F past their deadline; E not yet
    assert f.closure_rate == 0.6667  # 4 / 6
    assert f.overdue == 2  # C late, D open past its deadline
    assert (f.returned, f.reworked, f.extended) == (2, 1, 1)
    assert f.evaluated == 3  # B C H; G's no_answer is not a verdict
    assert f.satisfied == 2  # B satisfied, H basically satisfied
    assert f.satisfaction_rate == 0.6667
    assert f.avg_handling_hours == 17.5  # (6 + 48 + 4 + 12) / 4
    # 0.4·0.75 + 0.4·0.6667 + 0.2·(1 − 3/7) = 0.3 + 0.26668 + 0.11429 = 0.68097 → ×5 = 3.40 → 3
    assert f.stars == 3


def test_empty_and_null_figures():
    empty = figures([], NOW)
    assert (empty.received, empty.accepted, empty.closed, empty.due, empty.overdue) == (0, 0, 0, 0, 0)
    assert (empty.on_time_rate, empty.closure_rate, empty.satisfaction_rate, empty.avg_handling_hours, empty.stars) == (
        None,
        None,
        None,
        None,
        None,
    )
    declined = figures([A], NOW)
    assert (declined.received, declined.accepted, declined.stars) == (1, 0, None)
    # accepted, nothing closed, due or evaluated yet: every rate is null, the missing rates count as 1
    fresh = figures([E], NOW)
    assert (fresh.on_time_rate, fresh.closure_rate, fresh.satisfaction_rate, fresh.avg_handling_hours) == (
        None,
        None,
        None,
        None,
    )
    assert fresh.stars == 5
    # closed with no answer from the citizen: on-time rate 1, satisfaction null
    g = figures([G], NOW)
    assert (g.on_time_rate, g.closure_rate, g.evaluated, g.satisfaction_rate, g.avg_handling_hours) == (
        1.0,
        1.0,
        0,
        None,
        4.0,
    )


def test_stars_formula():
    assert star_rating(1.0, 1.0, 0, 0, 1) == 5
    assert star_rating(None, None, 0, 0, 2) == 5  # missing rates count as 1.0
    assert star_rating(None, None, 1, 0, 1) == 4  # 0.4 + 0.4 + 0.2·0
    assert star_rating(0.0, 0.0, 5, 3, 1) == 1  # score 0 → at least one star
    assert star_rating(0.5, 0.5, 0, 0, 4) == 3  # 0.6 → 3.0
    assert star_rating(1.0, 0.5, 1, 0, 2) == 4  # 0.4 + 0.2 + 0.1 = 0.7 → 3.5 → 4 (half up)
    assert star_rating(0.5, 0.75, 3, 0, 2) == 3  # 0.2 + 0.3 + 0 = 0.5 → 2.5 → 3 (half up, not to even)
    assert star_rating(0.9, 0.9, 0, 1, 10) == 5  # 0.36 + 0.36 + 0.18 = 0.9 → 4.5 → 5
    assert star_rating(1.0, 1.0, 0, 0, 0) is None  # nothing accepted: no rating


def test_group_by_unit_in_district_order_undispatched_last():
    records = [
        case("1", lead="D-JJ"),
        case("2", lead=None, step="declined"),
        case("3", lead="T-LS"),
        case("4", lead="D-JJ"),
        case("5", lead="X-GONE"),
    ]
    report = compute(records, "unit", DISTRICT, NOW)
    assert [(r.key, r.label, r.received) for r in report.rows] == [
        ("T-LS", "龙山街道综治分中心", 1),
        ("D-JJ", "威海市公安局文登分局交通警察大队", 2),
        ("X-GONE", "X-GONE", 1),  # a unit no longer in the seed file keeps its code
        (None, "未派遣", 1),
    ]
    assert report.total.received == 5 and report.by == "unit" and report.generated_at == NOW
    assert set(report.definitions) == set(METRICS) == set(DEFINITIONS)


def test_group_by_area_is_the_grids_town():
    records = [
        case("1", grid="G-LS-XL-01"),
        case("2", grid="G-LS-KY-02"),
        case("3", grid="G-TF-WC-01"),
        case("4", grid="G-ZT-BQ-02", accepted_at=h(-5), completed_at=h(-1), deadline=h(5)),
    ]
    assert group_of(records[1], "area", DISTRICT) == ("T-LS", "龙山街道综治分中心")
    report = compute(records, "area", DISTRICT, NOW)
    assert [(r.key, r.label, r.received, r.closed) for r in report.rows] == [
        ("T-LS", "龙山街道综治分中心", 2, 0),
        ("T-TF", "天福街道综治分中心", 1, 0),
        ("T-ZT", "泽头镇综治分中心", 1, 1),
    ]


def test_group_by_period_uses_beijing_time():
    before = datetime(2025, 3, 9, 15, 59, 59, tzinfo=UTC)  # Beijing Sunday 2025-03-09 23:59:59
    after = datetime(2025, 3, 9, 16, 0, 0, tzinfo=UTC)  # Beijing Monday 2025-03-10 00:00:00
    assert period_of(before, "day") == ("2025-03-09", "2025-03-09")
    assert period_of(after, "day") == ("2025-03-10", "2025-03-10")
    assert period_of(before, "week")[0] == "2025-W10" and period_of(after, "week") == ("2025-W11", "2025年第11周")
    assert period_of(datetime(2025, 2, 28, 15, 59, tzinfo=UTC), "month") == ("2025-02", "2025年2月")
    assert period_of(datetime(2025, 2, 28, 16, 0, tzinfo=UTC), "month") == ("2025-03", "2025年3月")
    assert period_of(datetime(2024, 12, 29, 16, 0, tzinfo=UTC), "week")[0] == "2025-W01"  # Beijing 2024-12-30
    # The same UTC day splits into two Beijing days; rows come out in time order.
    records = [
        case("late", reported=after),
        case("early", reported=before),
        case("later", reported=after + timedelta(hours=3)),
    ]
    report = compute(records, "period", DISTRICT, NOW, period="day")
    assert [(r.key, r.received) for r in report.rows] == [("2025-03-09", 1), ("2025-03-10", 2)]
    weeks = compute(records, "period", DISTRICT, NOW, period="week")
    assert [(r.key, r.received) for r in weeks.rows] == [("2025-W10", 1), ("2025-W11", 2)]
    months = compute(records, "period", DISTRICT, NOW, period="month")
    assert [(r.key, r.received) for r in months.rows] == [("2025-03", 3)]


def test_rows_sum_to_the_total():
    report = compute(ALL, "unit", DISTRICT, NOW)
    for metric in (
        "received",
        "accepted",
        "closed",
        "closed_on_time",
        "due",
        "overdue",
        "returned",
        "reworked",
        "extended",
        "evaluated",
        "satisfied",
    ):
        assert sum(getattr(r, metric) for r in report.rows) == getattr(report.total, metric)
    assert report.total == figures(ALL, NOW)


# --- the real stack ----------------------------------------------------------------------------

SUP, JJ, VER = as_("k-supervisor"), as_("k-D-JJ"), as_("k-verifier")
TOKENS: dict[str, str] = {}


def citizen(code: str) -> dict:
    return {"token": TOKENS[code]}


async def test_stats_by_unit_on_the_real_stack(engine, dev_env):
    start = datetime.now(UTC)
    async with api_stack(engine, dev_env) as s:
        http = s.http

        async def ok(method: str, url: str, headers: dict, json: dict | None = None) -> dict:
            r = await http.request(method, url, headers=headers, json=(json or {}) if method == "POST" else None)
            assert r.status_code == 200, f"{url}: {r.text}"
            return r.json()

        async def case_view(code: str) -> dict:
            return await ok("GET", f"/cases/{code}", SUP)

        filed = [await s.report() for _ in range(4)]
        TOKENS.update({f["case_code"]: f["citizen_token"] for f in filed})
        declined, happy, reworked, returned = [f["case_code"] for f in filed]
        await ok("POST", f"/cases/{declined}/decline", SUP, {"reason": "不属于受理范围"})
        for code in (happy, reworked, returned):
            assert (await ok("POST", f"/cases/{code}/register", SUP, {"category": "JM-002"}))["step"] == "dispatch"
            assert (await case_view(code))["summary"]["lead_unit"] == "D-JJ"

        # happy: signed, one approved extension, done, verified, 满意
        await ok("POST", f"/cases/{happy}/sign", JJ)
        first_deadline = (await case_view(happy))["summary"]["deadline"]
        await ok(
            "POST",
            f"/cases/{happy}/extension",
            JJ,
            {"extra": {"amount": 2, "unit": "working_days"}, "reason": "需协调车主"},
        )
        await ok("POST", f"/cases/{happy}/extension/decision", SUP, {"approve": True})

        async def extended() -> bool:
            deadline = (await case_view(happy))["summary"]["deadline"]
            return datetime.fromisoformat(deadline) > datetime.fromisoformat(first_deadline)

        await eventually(extended)
        await ok("POST", f"/cases/{happy}/complete", JJ, {"result": "车辆已挪走"})
        await ok("POST", f"/cases/{happy}/verify", VER, {"passed": True})
        await ok("POST", f"/citizen/cases/{happy}/evaluation", {}, {**citizen(happy), "verdict": "satisfied"})

        # reworked: done, sent back once, done again, verified, 不满意
        await ok("POST", f"/cases/{reworked}/sign", JJ)
        await ok("POST", f"/cases/{reworked}/complete", JJ, {"result": "已劝离"})
        await ok("POST", f"/cases/{reworked}/verify", VER, {"passed": False, "note": "车辆仍在"})
        await ok("POST", f"/cases/{reworked}/complete", JJ, {"result": "已拖移"})
        await ok("POST", f"/cases/{reworked}/verify", VER, {"passed": True})
        await ok("POST", f"/citizen/cases/{reworked}/evaluation", {}, {**citizen(reworked), "verdict": "dissatisfied"})

        # returned: D-JJ sends it back once, routing gives it to the town sub-center; left open
        await ok("POST", f"/cases/{returned}/return", JJ, {"reason": "属街道管理范围"})

        async def rerouted() -> bool:
            return (await case_view(returned))["summary"]["lead_unit"] == "T-LS"

        await eventually(rerouted)

        r = await http.get("/stats", params={"by": "unit", "reported_from": start.isoformat()}, headers=SUP)
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["by"] == "unit" and set(body["definitions"]) == set(METRICS)
        rows = {row["key"]: row for row in body["rows"]}
        assert set(rows) == {"D-JJ", "T-LS", None}

        # What this test did, counted by hand. All work finished within minutes, far inside the
        # level-2 limit: everything closed is on time and nothing is overdue.
        jj = dict(
            key="D-JJ",
            label="威海市公安局文登分局交通警察大队",
            received=2,
            accepted=2,
            closed=2,
            closed_on_time=2,
            on_time_rate=1.0,
            due=2,
            closure_rate=1.0,
            overdue=0,
            returned=0,
            reworked=1,
            extended=1,
            evaluated=2,
            satisfied=1,
            satisfaction_rate=0.5,
            avg_handling_hours=0.0,
            stars=4,
        )  # 0.4·1 + 0.4·0.5 + 0.2·(1 − 1/2) = 0.7 → 3.5 → 4
        ls = dict(
            key="T-LS",
            label="龙山街道综治分中心",
            received=1,
            accepted=1,
            closed=0,
            closed_on_time=0,
            on_time_rate=None,
            due=0,
            closure_rate=None,
            overdue=0,
            returned=1,
            reworked=0,
            extended=0,
            evaluated=0,
            satisfied=0,
            satisfaction_rate=None,
            avg_handling_hours=None,
            stars=4,
        )  # 0.4·1 + 0.4·1 + 0.2·(1 − 1/1) = 0.8 → 4
        none = dict(
            key=None,
            label="未派遣",
            received=1,
            accepted=0,
            closed=0,
            closed_on_time=0,
            on_time_rate=None,
            due=0,
            closure_rate=None,
            overdue=0,
            returned=0,
            reworked=0,
            extended=0,
            evaluated=0,
            satisfied=0,
            satisfaction_rate=None,
            avg_handling_hours=None,
            stars=None,
        )
        total = dict(
            key=None,
            label="合计",
            received=4,
            accepted=3,
            closed=2,
            closed_on_time=2,
            on_time_rate=1.0,
            due=2,
            closure_rate=1.0,
            overdue=0,
            returned=1,
            reworked=1,
            extended=1,
            evaluated=2,
            satisfied=1,
            satisfaction_rate=0.5,
            avg_handling_hours=0.0,
            stars=3,
        )  # 0.4·1 + 0.4·0.5 + 0.2·(1 − 2/3) = 0.6667 → 3.33 → 3
        assert rows["D-JJ"] == jj
        assert rows["T-LS"] == ls
        assert rows[None] == none
        assert body["total"] == total

        # the same cases by town and by Beijing day
        r = await http.get("/stats", params={"by": "area", "reported_from": start.isoformat()}, headers=SUP)
        assert [(x["key"], x["received"], x["closed"]) for x in r.json()["rows"]] == [("T-LS", 4, 2)]
        r = await http.get(
            "/stats", params={"by": "period", "period": "day", "reported_from": start.isoformat()}, headers=SUP
        )
        days = r.json()["rows"]
        assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", x["key"]) for x in days) and sum(x["received"] for x in days) == 4

        # a one-microsecond window at the test's start holds none of them
        r = await http.get(
            "/stats",
            params={"reported_from": start.isoformat(), "reported_to": (start + timedelta(microseconds=1)).isoformat()},
            headers=SUP,
        )
        assert r.status_code == 200 and r.json()["total"]["received"] == 0

        # who may read it, and a bad window
        assert (await http.get("/stats", headers=as_("k-admin"))).status_code == 200
        r = await http.get("/stats", headers=JJ)
        assert r.status_code == 403 and r.json()["error"]["code"] == "Forbidden"
        assert (await http.get("/stats", headers=VER)).status_code == 403
        r = await http.get(
            "/stats",
            params={"reported_from": "2025-03-02T00:00:00+08:00", "reported_to": "2025-03-01T00:00:00+08:00"},
            headers=SUP,
        )
        assert r.status_code == 422 and r.json()["error"]["code"] == "InvalidInput"
        assert (await http.get("/stats", params={"by": "grid"}, headers=SUP)).status_code == 422


@pytest.mark.parametrize("naive, aware", [("2025-03-10T00:00:00", "2025-03-09T16:00:00+00:00")])
async def test_a_window_without_offset_is_beijing_time(engine, dev_env, naive, aware):
    async with api_stack(engine, dev_env) as s:
        r = await s.http.get("/stats", params={"reported_from": naive}, headers=SUP)
        assert r.status_code == 200, r.text
        assert datetime.fromisoformat(r.json()["reported_from"]) == datetime.fromisoformat(aware)
