"""考核统计: the figures of ``api/statistics.py`` by hand, the SQL counts on seeded projection rows,
then ``GET /stats``, the workbook and the CSV on the real stack."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from openpyxl import load_workbook
from sqlmodel import Session, delete

from api.statistics import (
    DEFINITIONS,
    GROUPINGS,
    METRICS,
    Figures,
    Sums,
    finish,
    group_of,
    period_of,
    ranking,
    star_rating,
)
from api.stats_export import COLUMNS
from api.stats_report import stats_report
from domain.district import District
from store.tables import CaseRow
from tests.api_support import api_stack, as_
from tests.support import eventually

DISTRICT = District.load()
NOW = datetime(2024, 5, 10, 12, 0, tzinfo=UTC)
WINDOW = (datetime(2024, 5, 1, tzinfo=UTC), datetime(2024, 6, 1, tzinfo=UTC))


def h(hours: float) -> datetime:
    """``hours`` from NOW (negative: in the past)."""
    return NOW + timedelta(hours=hours)


def figures_of(**counts) -> Figures:
    return finish(Sums(**counts), "X", "X", per_unit=False)


def test_rates_are_empty_without_cases_and_stars_never_reward_emptiness():
    empty = figures_of()
    assert (empty.on_time_rate, empty.closure_rate, empty.satisfaction_rate, empty.avg_handling_hours) == (None,) * 4
    assert empty.stars is None
    # accepted and open, nothing due yet: nothing to judge, so no stars (not five)
    assert figures_of(received=3, accepted=3).stars is None
    # nothing closed, both overdue: the 0 % closure counts, the missing rates do not
    late = figures_of(received=2, accepted=2, due=2, overdue=2)
    assert (late.on_time_rate, late.closure_rate, late.satisfaction_rate) == (None, 0.0, None)
    assert late.stars == 2  # (0.3·0 + 0.2·1) ÷ 0.5 = 0.4 → 2.0 → 2


def test_stars_formula():
    def stars(on_time, closure, satisfaction, penalties=0, base=1):
        f = Figures("X", "X", on_time_rate=on_time, closure_rate=closure, satisfaction_rate=satisfaction)
        f.returned = penalties
        return star_rating(f, base)

    assert stars(1.0, 1.0, 1.0) == 5
    assert stars(0.0, 0.0, 0.0, penalties=3) == 1  # score 0 → at least one star
    assert stars(0.5, 0.5, 0.5, base=4) == 3  # 0.15 + 0.15 + 0.1 + 0.2 = 0.6 → 3
    assert stars(1.0, 1.0, 0.5, penalties=1, base=2) == 4  # 0.3 + 0.3 + 0.1 + 0.1 = 0.8 → 4
    assert stars(0.5, 1.0, None, penalties=1, base=2) == 3  # (0.15 + 0.3 + 0.1) ÷ 0.8 = 0.6875 → 3.44 → 3
    assert stars(0.5, 0.5, 0.75, penalties=2, base=2) == 2  # 0.15 + 0.15 + 0.15 + 0 = 0.45 → 2.25 → 2
    assert stars(0.9, 0.9, 0.9, penalties=1, base=10) == 5  # 0.27 + 0.27 + 0.18 + 0.18 = 0.9 → 4.5 → 5 (half up)
    assert stars(None, None, 1.0) is None and stars(1.0, 1.0, 1.0, base=0) is None


def test_periods_quarters_and_groups():
    assert period_of("2025-03-09", "day") == ("2025-03-09", "2025-03-09")
    assert period_of("2025-03-09", "week") == ("2025-W10", "2025年第10周")
    assert period_of("2024-12-30", "week")[0] == "2025-W01"  # ISO weeks cross the year
    assert period_of("2025-02-28", "month") == ("2025-02", "2025年2月")
    assert period_of("2025-03-31", "quarter") == ("2025-Q1", "2025年第1季度")
    assert period_of("2025-10-01", "quarter") == ("2025-Q4", "2025年第4季度")
    assert group_of("G-LS-KY-02", "area", DISTRICT, "month") == ("T-LS", "龙山街道综治分中心")
    assert group_of("JM-002", "category", DISTRICT, "month")[1] == DISTRICT.category("JM-002").name
    assert group_of(None, "category", DISTRICT, "month") == (None, "未分类")
    assert group_of("hotline_12345", "channel", DISTRICT, "month") == ("hotline_12345", "12345热线")
    assert group_of("X-GONE", "unit", DISTRICT, "month") == ("X-GONE", "X-GONE")  # a removed unit keeps its code


def test_ranking_puts_units_without_stars_last():
    rows = [
        Figures("A", "A", stars=3, on_time_rate=0.5),
        Figures("B", "B", stars=None),
        Figures("C", "C", stars=5, on_time_rate=1.0),
        Figures("D", "D", stars=3, on_time_rate=0.9),
    ]
    assert [r.key for r in ranking(rows)] == ["C", "D", "A", "B"]


# --- the SQL counts on hand-made projection rows ------------------------------------------------------

# A declined; B closed on time, satisfied; C closed after running over (overdue_at kept), reworked and
# reopened, dissatisfied; D open in 处置 past its deadline, returned twice; E in 派遣, not yet due,
# extended once; F waiting for 核查 past its deadline (due? no: it ran over only if the 红灯 fired);
# G closed on time, citizen never answered; H escalated after running over, now green at the center.
ROWS = [
    dict(case_code="A", step="declined", grid="G-LS-XL-01", category=None, channel="window"),
    dict(
        case_code="B",
        step="evaluate",
        accepted_at=h(-10),
        completed_at=h(-4),
        deadline=h(20),
        final_verdict="satisfied",
        handling_seconds=6 * 3600.0,
    ),
    dict(
        case_code="C",
        step="evaluate",
        accepted_at=h(-50),
        completed_at=h(-2),
        deadline=h(-10),
        overdue_at=h(-10),
        reworks=1,
        reopens=1,
        final_verdict="dissatisfied",
        handling_seconds=48 * 3600.0,
    ),
    dict(case_code="D", step="handle", accepted_at=h(-30), deadline=h(-1), returns=2),
    dict(case_code="E", step="dispatch", accepted_at=h(-1), deadline=h(48), extensions=1, channel="grid"),
    dict(case_code="F", step="verify", accepted_at=h(-30), deadline=h(-1)),
    dict(
        case_code="G",
        step="evaluate",
        accepted_at=h(-6),
        completed_at=h(-2),
        deadline=h(1),
        final_verdict="no_answer",
        handling_seconds=4 * 3600.0,
        grid="G-ZT-BQ-02",
    ),
    dict(
        case_code="H", step="handle", accepted_at=h(-90), deadline=h(30), overdue_at=h(-40), escalations=1, lamp="green"
    ),
]


def seed(engine) -> None:
    with Session(engine) as session:
        session.exec(delete(CaseRow).where(CaseRow.case_code.in_([r["case_code"] for r in ROWS])))
        for row in ROWS:
            values = dict(channel="hotline_12345", grid="G-LS-XL-01", category="JM-002", reported_at=h(-100))
            values |= row
            values["reported_day"] = (values["reported_at"] + timedelta(hours=8)).strftime("%Y-%m-%d")
            session.add(CaseRow(**values))
        session.commit()


def test_case_figures_in_sql_by_hand(engine):
    seed(engine)
    with Session(engine) as session:
        report = stats_report(session, DISTRICT, "area", "month", *WINDOW, now=NOW)
        channels = stats_report(session, DISTRICT, "channel", "month", *WINDOW, now=NOW)
        quarters = stats_report(session, DISTRICT, "period", "quarter", *WINDOW, now=NOW)
    f = report.total
    assert (f.received, f.accepted, f.assigned) == (8, 7, None)
    assert f.closed == 3  # B C G
    assert f.closed_on_time == 2  # B G: C ran over once, so it is not on time
    assert f.on_time_rate == 0.6667
    assert f.overdue == 3  # C (kept), D (open past its deadline), H (kept after 提级)
    assert f.due == 5  # B C G closed, D H overdue; E not yet; F is with the center, not late at a unit
    assert f.closure_rate == 0.6
    assert (f.returned, f.escalated, f.reworked, f.extended) == (2, 1, 2, 1)
    assert (f.evaluated, f.satisfied, f.satisfaction_rate) == (2, 1, 0.5)  # G's 未接通 is no verdict
    assert f.avg_handling_hours == 19.3  # (6 + 48 + 4) / 3
    # 0.3·0.6667 + 0.3·0.6 + 0.2·0.5 + 0.2·(1 − 5/7) = 0.2 + 0.18 + 0.1 + 0.0571 = 0.5371 → 2.69 → 3
    assert f.stars == 3
    assert [(r.key, r.received, r.closed) for r in report.rows] == [("T-LS", 7, 2), ("T-ZT", 1, 1)]
    assert [(r.key, r.label, r.received) for r in channels.rows] == [
        ("hotline_12345", "12345热线", 6),
        ("grid", "网格员巡查", 1),
        ("window", "窗口", 1),
    ]
    assert [(r.key, r.received) for r in quarters.rows] == [("2024-Q2", 8)]
    assert set(report.definitions) == set(METRICS) == set(DEFINITIONS)
    for metric in ("received", "closed", "overdue", "due", "returned", "evaluated"):
        assert sum(getattr(r, metric) for r in report.rows) == getattr(report.total, metric)


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
        assert set(rows) == {"D-JJ", "T-LS"}  # per assignment: the declined case was never held by a unit

        # What this test did, counted by hand. All work finished within minutes, far inside the
        # level-2 limit: everything closed is on time and nothing is overdue. D-JJ keeps its 退单.
        jj = dict(
            key="D-JJ",
            label="威海市公安局文登分局交通警察大队",
            received=None,
            accepted=None,
            assigned=3,
            closed=2,
            closed_on_time=2,
            on_time_rate=1.0,
            due=2,
            closure_rate=1.0,
            overdue=0,
            returned=1,
            escalated=0,
            reworked=1,
            extended=1,
            evaluated=2,
            satisfied=1,
            satisfaction_rate=0.5,
            avg_handling_hours=0.0,
            stars=4,
        )  # 0.3·1 + 0.3·1 + 0.2·0.5 + 0.2·(1 − 2/3) = 0.7667 → 3.83 → 4
        ls = dict(
            key="T-LS",
            label="龙山街道综治分中心",
            received=None,
            accepted=None,
            assigned=1,
            closed=0,
            closed_on_time=0,
            on_time_rate=None,
            due=0,
            closure_rate=None,
            overdue=0,
            returned=0,
            escalated=0,
            reworked=0,
            extended=0,
            evaluated=0,
            satisfied=0,
            satisfaction_rate=None,
            avg_handling_hours=None,
            stars=None,
        )  # nothing due yet: no stars rather than five
        assert rows["D-JJ"] == jj
        assert rows["T-LS"] == ls
        assert body["total"] == jj | dict(key=None, label="合计", assigned=4)  # 0.8 → 4

        # per case: the declined one counts as received
        r = await http.get("/stats", params={"by": "category", "reported_from": start.isoformat()}, headers=SUP)
        total = r.json()["total"]
        assert (total["received"], total["accepted"], total["closed"], total["returned"]) == (4, 3, 2, 1)

        # the workbook holds every grouping, the ranking and the 口径, with the API's figures
        r = await http.get("/stats/export.xlsx", params={"reported_from": start.isoformat()}, headers=SUP)
        assert r.status_code == 200 and r.headers["content-type"].startswith("application/vnd.openxml")
        assert r.headers["content-disposition"].endswith('.xlsx"')
        book = load_workbook(io.BytesIO(r.content))
        assert book.sheetnames == ["按主办单位", "按镇街", "按事项类别", "按受理渠道", "按期间（月）", "排名", "口径"]
        sheet = list(book["按主办单位"].iter_rows(values_only=True))
        header, by_key = sheet[0], {line[0]: dict(zip(sheet[0], line, strict=True)) for line in sheet[1:]}
        assert header[:4] == ("编码", "主办单位", "承办", "办结") and "受理" not in header
        assert by_key["D-JJ"]["承办"] == 3 and by_key["D-JJ"]["退单"] == 1 and by_key["D-JJ"]["满意率"] == 0.5
        assert by_key["T-LS"]["按期办结率"] == "—" and by_key["T-LS"]["星级"] == "—"
        assert by_key[None]["承办"] == 4  # the 合计 row
        # every sheet, every cell, equals what GET /stats answers for that grouping
        sheets = {"unit": "按主办单位", "area": "按镇街", "category": "按事项类别", "channel": "按受理渠道"}
        sheets["period"] = "按期间（月）"
        for by, title in sheets.items():
            api = (await http.get("/stats", params={"by": by, "reported_from": start.isoformat()}, headers=SUP)).json()
            lines = list(book[title].iter_rows(values_only=True))
            labels = dict(COLUMNS)
            for line, row in zip(lines[1:], [*api["rows"], api["total"]], strict=True):
                cells = dict(zip(lines[0], line, strict=True))
                assert (cells["编码"], cells[GROUPINGS[by]]) == (row["key"], row["label"]), title
                for name, value in row.items():
                    if name in labels and labels[name] in cells:
                        assert cells[labels[name]] == ("—" if value is None else value), (title, name)
        ranked = [line[0] for line in book["排名"].iter_rows(min_row=2, values_only=True)]
        assert ranked == ["D-JJ", "T-LS"]
        definitions = {line[0]: line[1] for line in book["口径"].iter_rows(min_row=2, values_only=True)}
        assert definitions["超期"] == DEFINITIONS["overdue"] and "统计范围" in definitions

        r = await http.get("/stats/export.csv", params={"by": "unit", "reported_from": start.isoformat()}, headers=SUP)
        assert r.status_code == 200 and r.text.startswith("\ufeff编码,主办单位,承办")
        lines = list(csv.reader(io.StringIO(r.text.lstrip("\ufeff"))))
        assert [line[:4] for line in lines[1:]] == [
            ["T-LS", ls["label"], "1", "0"],
            ["D-JJ", jj["label"], "3", "2"],
            ["", "合计", "4", "2"],
        ]
        assert (await http.get("/stats/export.xlsx", headers=JJ)).status_code == 403

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
        assert r.status_code == 200 and r.json()["total"]["assigned"] == 0 and r.json()["rows"] == []

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
