"""时限规则推演 (policy what-if): hand-computed replays of recorded timelines under another policy —
a Spring Festival holiday, an extension, a rework, a 提级 that a longer limit avoids and one a
shorter limit adds — then ``closeloop policy simulate`` in a subprocess on a database filled
through the real tables.

Calendar (chinesecalendar 2026): 15–23 Feb is the Spring Festival holiday, Sat 14 Feb a 调休
working day; March has no holiday, 7–8 and 14–15 Mar are weekends. Limits count from the
dispatch; N working days end at 17:30 of the N-th working day after it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path

from click.testing import CliRunner
from sqlmodel import Session, delete

import cli
from activities.deadlines import DeadlineActivities
from api.whatif import CaseHistory, Entry, Outcome, extension_amount, simulate
from domain.calendar import BusinessCalendar
from domain.commands import ClockRequest, RoutingDecision
from domain.messages import Actor, ComplaintInput, ExtensionDecision, ExtensionRequest, Registration, UnitAction
from domain.policy import DEFAULT_POLICY, Duration, DurationUnit, LevelClock, SlaPolicy, wd, wh
from domain.vocabulary import LOCAL_TZ, Channel, Lamp, Role, Rung, WarningLevel
from store.db import create_schema, make_engine
from store.tables import CaseRow, TimelineRow
from tests.support import database_url
from workflows.case import Case
from workflows.core import Escalate

CAL = BusinessCalendar()
NOW = datetime(2026, 11, 25, 12, tzinfo=LOCAL_TZ)  # every case below has ended by then


def t(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    """A Beijing-time instant in 2026."""
    return datetime(2026, month, day, hour, minute, tzinfo=LOCAL_TZ)


def with_level(level: int, limit: int, escalate_after: int, version: str = "sla-test") -> SlaPolicy:
    """DEFAULT_POLICY with one level's limit and 提级 delay (working days) replaced."""
    clock = DEFAULT_POLICY.clock(WarningLevel(level))
    changed = clock.model_copy(update={"limit": wd(limit), "escalate_after": wd(escalate_after)})
    levels = {**DEFAULT_POLICY.levels, WarningLevel(level): changed}
    return DEFAULT_POLICY.model_copy(update={"version": version, "levels": levels})


def history(code: str, level: int, *events: tuple, version: str = "sla-2026.1") -> CaseHistory:
    """events: (at, kind[, unit[, note]]) in timeline order."""
    entries = tuple(Entry(seq, e[0], e[1], *e[2:]) for seq, e in enumerate(events, start=1))
    return CaseHistory(code, level, version, entries)


def only(case: CaseHistory, policy: SlaPolicy, calendar: BusinessCalendar = CAL):
    result = simulate([case], policy, calendar, NOW)
    assert not result.warnings
    return result


# --- the cases ---------------------------------------------------------------------------------

# Level 2 dispatched Thu 12 Feb 10:00 — 3 working days: Fri 13, Sat 14 (调休), Tue 24 (after the
# holiday) → 24 Feb 17:30; yellow 1 working day before → Sat 14 17:30; 提级 3 after → Fri 27 17:30.
HOLIDAY = history(
    "WD-20260212-000001",
    2,
    (t(2, 12, 10), "dispatched", "D-CG"),
    (t(2, 12, 11), "signed", "D-CG"),
    (t(2, 14, 17, 30), "yellow", "D-CG"),
    (t(2, 24, 16), "completed", "D-CG"),
    (t(2, 25, 9), "verified"),
)

# Level 2 dispatched Mon 2 Mar 09:00 — deadline Thu 5 Mar 17:30; 延期 2 working days approved on
# Wed 4 Mar → Mon 9 Mar 17:30 (yellow Fri 6 17:30); completed Mon 9 Mar 15:00.
EXTENSION = history(
    "WD-20260302-000001",
    2,
    (t(3, 2, 9), "dispatched", "T-LS"),
    (t(3, 2, 9, 30), "signed", "T-LS"),
    (t(3, 3, 9), "extension_requested", "T-LS"),
    (t(3, 4, 10), "extension_approved", "T-LS", "同意延期 2个工作日 材料待补"),
    (t(3, 6, 17, 30), "yellow", "T-LS"),
    (t(3, 9, 15), "completed", "T-LS"),
)

# Level 3 (same day) dispatched Tue 3 Mar 09:30 — deadline 17:30 that day; completed 16:00 on time;
# 返工 Wed 4 Mar 10:00 gives a fresh clock (deadline Wed 4 17:30); completed again Thu 5 Mar 11:00.
REWORK = history(
    "WD-20260303-000001",
    3,
    (t(3, 3, 9, 30), "dispatched", "V-LS-XL"),
    (t(3, 3, 16), "completed", "V-LS-XL"),
    (t(3, 4, 10), "rework", "V-LS-XL"),
    (t(3, 4, 15, 30), "yellow", "V-LS-XL"),
    (t(3, 4, 17, 30), "red", "V-LS-XL"),
    (t(3, 5, 11), "completed", "V-LS-XL"),
    (t(3, 5, 15), "verified"),
)

# Level 2 at T-LS from Mon 2 Mar 09:00: red at Thu 5 17:30, the ladder escalates 3 working days
# later (Tue 10 Mar 17:30) to the center, which completes Thu 12 Mar (its deadline Fri 13 17:30).
ESCALATED = history(
    "WD-20260302-000002",
    2,
    (t(3, 2, 9), "dispatched", "T-LS"),
    (t(3, 4, 17, 30), "yellow", "T-LS"),
    (t(3, 5, 17, 30), "red", "T-LS"),
    (t(3, 6, 17, 30), "ladder_urge", "T-LS"),
    (t(3, 9, 17, 30), "ladder_supervise"),
    (t(3, 10, 17, 30), "escalated", "WD-CENTER", "超期自动提级：由 T-LS 提级至 WD-CENTER"),
    (t(3, 10, 17, 30), "dispatched", "WD-CENTER"),
    (t(3, 12, 10), "completed", "WD-CENTER"),
)

# Level 1 (7 working days) at D-JJ from Mon 2 Mar 09:00: deadline Wed 11 Mar 17:30, completed a day
# late on Thu 12 Mar 10:00 (red, not escalated: 提级 would have been Mon 16 Mar 17:30).
LATE = history(
    "WD-20260302-000003",
    1,
    (t(3, 2, 9), "dispatched", "D-JJ"),
    (t(3, 9, 17, 30), "yellow", "D-JJ"),
    (t(3, 11, 17, 30), "red", "D-JJ"),
    (t(3, 12, 10), "completed", "D-JJ"),
)


# --- the pure replay ---------------------------------------------------------------------------


def test_the_holiday_is_not_counted_and_a_shorter_limit_makes_the_case_late():
    same = only(HOLIDAY, DEFAULT_POLICY)
    [r] = same.replays
    assert (r.deadline, r.escalate_at) == (t(2, 24, 17, 30), t(2, 27, 17, 30))
    assert r.actual == r.whatif == Outcome(Lamp.YELLOW, overdue=False, escalated_at=None)
    assert r.completed and same.total.on_time_actual == same.total.on_time_whatif == 1

    # 2 working days: Fri 13, Sat 14 → 14 Feb 17:30; yellow Fri 13 17:30; 提级 Tue 24, Wed 25, Thu 26.
    shorter = only(HOLIDAY, with_level(2, limit=2, escalate_after=3))
    [r] = shorter.replays
    assert (r.deadline, r.escalate_at) == (t(2, 14, 17, 30), t(2, 26, 17, 30))
    assert r.whatif == Outcome(Lamp.RED, overdue=True, escalated_at=None)
    [unit] = shorter.units
    assert (unit.unit, unit.completed, unit.on_time_actual, unit.on_time_whatif) == ("D-CG", 1, 1, 0)
    assert unit.rate(unit.on_time_actual) == 1.0 and unit.rate(unit.on_time_whatif) == 0.0


def test_a_calendar_with_one_more_holiday_moves_the_deadline():
    # A supplement makes Tue 24 Feb a rest day too: Fri 13, Sat 14, Wed 25 → 25 Feb 17:30.
    cal = BusinessCalendar(supplement={date(2026, 2, 24): False})
    [r] = only(HOLIDAY, DEFAULT_POLICY, cal).replays
    assert r.deadline == t(2, 25, 17, 30)
    assert r.escalate_at == t(2, 28, 17, 30)  # Thu 26, Fri 27, Sat 28 (调休, a working day)
    assert r.whatif.lamp == Lamp.YELLOW and not r.whatif.overdue


def test_an_approved_extension_moves_the_new_deadline_as_the_workflow_does():
    [r] = only(EXTENSION, DEFAULT_POLICY).replays
    assert r.deadline == t(3, 9, 17, 30)  # Thu 5 + 2 working days (Fri 6, Mon 9)
    assert r.escalate_at == t(3, 12, 17, 30)
    assert r.actual == r.whatif == Outcome(Lamp.YELLOW, overdue=False, escalated_at=None)

    # 1 working day: deadline Tue 3 Mar 17:30, already red when the extension came on Wed 4; the
    # extension moves it from there: Wed 4, Thu 5 → 5 Mar 17:30; completed Mon 9: late.
    [r] = only(EXTENSION, with_level(2, limit=1, escalate_after=3)).replays
    assert r.deadline == t(3, 5, 17, 30) and r.escalate_at == t(3, 10, 17, 30)
    assert r.whatif == Outcome(Lamp.RED, overdue=True, escalated_at=None)


def test_a_rework_gets_a_fresh_clock():
    [r] = only(REWORK, DEFAULT_POLICY).replays
    assert r.deadline == t(3, 4, 17, 30) and r.escalate_at == t(3, 5, 17, 30)  # from the rework on Wed 4
    assert r.actual == r.whatif == Outcome(Lamp.RED, overdue=True, escalated_at=None)

    # One working day: the first holding ends Tue 16:00 (deadline Wed 17:30); the rework's clock
    # ends Thu 5 Mar 17:30 (yellow 2 working hours earlier, 15:30): completed 11:00 — on time.
    longer = {
        **DEFAULT_POLICY.levels,
        WarningLevel.LEVEL_3: LevelClock(
            limit=wd(1), yellow_before=wh(2), urge_after=wh(2), supervise_after=wh(4), escalate_after=wd(1)
        ),
    }
    result = only(REWORK, DEFAULT_POLICY.model_copy(update={"version": "sla-l3-1d", "levels": longer}))
    [r] = result.replays
    assert r.deadline == t(3, 5, 17, 30)
    assert r.whatif == Outcome(Lamp.GREEN, overdue=False, escalated_at=None)
    assert (result.total.overdue_actual, result.total.overdue_whatif) == (1, 0)


def test_escalated_in_reality_but_not_under_a_longer_limit():
    result = only(ESCALATED, with_level(2, limit=5, escalate_after=3))
    first, second = result.replays
    # T-LS: 5 working days → Mon 9 Mar 17:30, 提级 Thu 12 Mar 17:30; the record ends at the real
    # 提级 (Tue 10 17:30): past the new deadline, not yet at the new 提级 instant.
    assert first.unit == "T-LS" and not first.completed
    assert (first.deadline, first.escalate_at) == (t(3, 9, 17, 30), t(3, 12, 17, 30))
    assert first.actual == Outcome(Lamp.RED, overdue=True, escalated_at=t(3, 10, 17, 30))
    assert first.whatif == Outcome(Lamp.RED, overdue=True, escalated_at=None)
    assert first.unknown_after
    # The center's assignment is replayed as it happened: Tue 10 17:30 + 5 → Tue 17 Mar 17:30.
    assert second.unit == "WD-CENTER" and second.completed and second.deadline == t(3, 17, 17, 30)
    assert second.actual == second.whatif == Outcome(Lamp.GREEN, overdue=False, escalated_at=None)
    tls = next(u for u in result.units if u.unit == "T-LS")
    assert (tls.escalated_actual, tls.escalated_whatif, tls.unknown_after) == (1, 0, 1)

    [first, _] = only(ESCALATED, DEFAULT_POLICY).replays  # the policy it ran under gives it back
    assert first.whatif.escalated_at == first.actual.escalated_at == t(3, 10, 17, 30)
    assert not first.unknown_after


def test_not_escalated_in_reality_but_under_a_shorter_limit():
    [r] = only(LATE, DEFAULT_POLICY).replays
    assert (r.deadline, r.escalate_at) == (t(3, 11, 17, 30), t(3, 16, 17, 30))
    assert r.actual == r.whatif == Outcome(Lamp.RED, overdue=True, escalated_at=None)

    # 3 working days → Thu 5 Mar 17:30, 提级 1 later: Fri 6 Mar 17:30, while D-JJ still held it.
    result = only(LATE, with_level(1, limit=3, escalate_after=1))
    [r] = result.replays
    assert r.whatif == Outcome(Lamp.RED, overdue=True, escalated_at=t(3, 6, 17, 30))
    assert r.actual.escalated_at is None and r.completed
    assert (result.total.escalated_actual, result.total.escalated_whatif, result.total.on_time_whatif) == (0, 1, 0)


def test_a_supervisors_own_escalation_is_kept_and_not_counted_as_the_ladders():
    case = history(
        "WD-20260302-000004",
        2,
        (t(3, 2, 9), "dispatched", "D-SJ"),
        (t(3, 3, 10), "escalated", "WD-CENTER", "群众反映强烈：由 D-SJ 提级至 WD-CENTER"),
        (t(3, 3, 10), "dispatched", "WD-CENTER"),
        (t(3, 4, 10), "completed", "WD-CENTER"),
    )
    first, second = only(case, DEFAULT_POLICY).replays
    assert first.actual == first.whatif == Outcome(Lamp.GREEN, overdue=False, escalated_at=None)
    assert not first.completed and not first.unknown_after and second.completed


def test_at_the_top_of_the_tree_the_unit_keeps_the_case():
    # The center holds it (level 2 from Mon 2 Mar 09:00: deadline Thu 5, 提级 Tue 10 Mar 17:30); the
    # ladder's 提级 finds no parent (an entry without a unit) and the center completes on Wed 11.
    case = history(
        "WD-20260302-000005",
        2,
        (t(3, 2, 9), "dispatched", "WD-CENTER"),
        (t(3, 5, 17, 30), "red", "WD-CENTER"),
        (t(3, 10, 17, 30), "escalated", None, "WD-CENTER 已是最高层级，由中心直接督办"),
        (t(3, 11, 10), "completed", "WD-CENTER"),
    )
    [r] = only(case, DEFAULT_POLICY).replays
    assert r.completed and not r.unknown_after
    assert r.actual == r.whatif == Outcome(Lamp.RED, overdue=True, escalated_at=t(3, 10, 17, 30))
    [r] = only(case, with_level(2, limit=7, escalate_after=3)).replays  # deadline Wed 11 Mar 17:30
    assert r.deadline == t(3, 11, 17, 30) and r.whatif == Outcome(Lamp.YELLOW, overdue=False, escalated_at=None)


def test_figures_per_unit_and_versions():
    cases = [HOLIDAY, EXTENSION, REWORK, ESCALATED, LATE, CaseHistory("WD-20260301-000009", None, None, ())]
    result = simulate(cases, with_level(2, limit=5, escalate_after=3), CAL, NOW)
    assert result.cases == 6 and result.actual_versions == {"sla-2026.1": 5, "未立案": 1}
    rows = {u.unit: u for u in result.units}
    assert list(rows) == sorted(rows) == ["D-CG", "D-JJ", "T-LS", "V-LS-XL", "WD-CENTER"]
    tls = rows["T-LS"]  # EXTENSION (completed, on time both ways) and ESCALATED's first assignment
    assert (tls.assignments, tls.completed, tls.on_time_actual, tls.on_time_whatif) == (2, 1, 1, 1)
    assert (tls.overdue_actual, tls.overdue_whatif, tls.escalated_actual, tls.escalated_whatif) == (1, 1, 1, 0)
    total = result.total
    assert (total.assignments, total.completed, total.on_time_actual, total.on_time_whatif) == (6, 5, 3, 3)


def test_the_notes_read_are_the_ones_the_case_rules_write():
    """The replay reads two things from notes: the approved amount and the ladder's 提级 reason."""
    sup, cg = Actor(role=Role.SUPERVISOR, user="s"), Actor(role=Role.UNIT_STAFF, unit="D-CG", user="cg")
    start = t(3, 2, 9)
    new_clock = DeadlineActivities(CAL).compute_clock
    clock = new_clock(
        ClockRequest(start=start, level_clock=DEFAULT_POLICY.clock(2), sign_limit=DEFAULT_POLICY.sign_limit)
    )
    inp = ComplaintInput(case_code="WD-Y", channel=Channel.HOTLINE, grid="G-LS-XL-01", reported_at=start)
    case = Case.collect(inp, start)
    case.register(Registration(actor=sup, category="JM-002"), start)
    case.routed(RoutingDecision(lead="D-CG", co_units=[], level=2, policy=DEFAULT_POLICY), clock, start)
    case.sign_for(UnitAction(actor=cg), start)
    case.request_extension(ExtensionRequest(actor=cg, extra=wd(2), reason="材料待补"), t(3, 3, 9))
    case.decide_extension(ExtensionDecision(actor=sup, approve=True, note="同意"), t(3, 4, 10))
    case.effects.clear()
    case.fire_rung(Rung.ESCALATE, t(3, 12, 17, 30))
    [escalate] = [e for e in case.effects if isinstance(e, Escalate)]
    case.escalated(escalate, "WD-CENTER", clock, t(3, 12, 17, 30))
    case.escalated(Escalate(case.epoch, "WD-CENTER", "超期自动提级"), None, None, t(3, 20, 17, 30))
    entries = [Entry(e.seq, e.at, e.kind.value, e.unit, e.note) for e in case.view.timeline]
    first, second = simulate([CaseHistory("WD-Y", 2, "sla-2026.1", tuple(entries))], DEFAULT_POLICY, CAL, NOW).replays
    # Thu 5 Mar + 2 working days → Mon 9 Mar; 提级 3 later → Thu 12 Mar 17:30, when the ladder fired.
    assert first.deadline == t(3, 9, 17, 30) and first.escalate_at == t(3, 12, 17, 30)
    assert first.actual.escalated_at == first.whatif.escalated_at == t(3, 12, 17, 30)
    assert second.unit == "WD-CENTER" and second.actual.escalated_at == t(3, 20, 17, 30)  # at the top


def test_extension_notes_are_read_in_every_unit():
    assert extension_amount("同意延期 3个工作日 好") == wd(3)
    assert extension_amount("同意延期 4个工作小时") == wh(4)
    assert extension_amount("同意延期 5小时") == Duration(amount=5, unit=DurationUnit.HOURS)
    assert extension_amount("同意延期 10分钟") == Duration(amount=10, unit=DurationUnit.MINUTES)
    assert extension_amount("同意延期 2天") == Duration(amount=2, unit=DurationUnit.CALENDAR_DAYS)
    assert extension_amount("同意") is None
    case = history("WD-X", 2, (t(3, 2, 9), "dispatched", "T-LS"), (t(3, 3, 9), "extension_approved", "T-LS", "?"))
    result = simulate([case], DEFAULT_POLICY, CAL, t(3, 4, 9))
    assert result.warnings and "读不出时长" in result.warnings[0]
    assert result.replays[0].deadline == t(3, 5, 17, 30) and result.replays[0].whatif.lamp == Lamp.GREEN


# --- the command, on a database ------------------------------------------------------------------

ALL = [HOLIDAY, EXTENSION, REWORK, ESCALATED, LATE]
ROLES = {"completed": "unit_staff", "signed": "unit_staff", "extension_requested": "unit_staff"}


def fill(url: str) -> None:
    """Projection rows through the real tables: the five cases, one never dispatched (declined) and
    one reported after the window (it must not count)."""
    engine = make_engine(url)
    create_schema(engine)
    outside = history("WD-20260401-000001", 2, (t(4, 1, 9), "dispatched", "D-JJ"), (t(4, 9, 9), "completed", "D-JJ"))
    with Session(engine) as session, session.begin():
        session.exec(delete(TimelineRow).where(TimelineRow.case_code.like("WD-2026%")))
        session.exec(delete(CaseRow).where(CaseRow.case_code.like("WD-2026%")))
        for case in [*ALL, outside]:
            first = case.entries[0].at
            session.add(
                CaseRow(
                    case_code=case.case_code,
                    channel="hotline_12345",
                    grid="G-LS-XL-01",
                    step="evaluate",
                    level=case.level,
                    policy_version=case.policy_version,
                    lead_unit=case.entries[-1].unit,
                    reported_at=first,
                    accepted_at=first,
                )
            )
            for e in case.entries:
                role = ROLES.get(e.kind, "system")
                session.add(
                    TimelineRow(
                        case_code=case.case_code, seq=e.seq, at=e.at, kind=e.kind, role=role, unit=e.unit, note=e.note
                    )
                )
        session.add(
            CaseRow(
                case_code="WD-20260301-000009",
                channel="grid",
                grid="G-LS-XL-01",
                step="declined",
                reported_at=t(3, 1, 8),
            )
        )
    engine.dispose()


def write_policy(tmp_path: Path) -> Path:
    path = tmp_path / "sla-2027.json"
    """Level 2: 5 working days (T-LS no longer escalates); level 1: 3 + 1 (D-JJ now would)."""
    policy = with_level(2, limit=5, escalate_after=3, version="sla-2027.1")
    levels = {
        **policy.levels,
        WarningLevel.LEVEL_1: with_level(1, limit=3, escalate_after=1).clock(WarningLevel.LEVEL_1),
    }
    path.write_text(policy.model_copy(update={"levels": levels}).model_dump_json(), encoding="utf-8")
    return path


def test_policy_simulate_prints_the_figures_side_by_side(tmp_path):
    url = database_url(tmp_path)
    fill(url)
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLOSELOOP_")}
    env.update(CLOSELOOP_DATABASE_URL=url, COLUMNS="200", NO_COLOR="1")
    command = [sys.executable, "-m", "cli", "policy", "simulate", str(write_policy(tmp_path))]
    try:
        done = subprocess.run(
            [*command, "--from", "2026-02-01", "--to", "2026-03-31", "--detail"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        engine = make_engine(url)
        with Session(engine) as session, session.begin():  # a shared PostgreSQL database stays clean
            session.exec(delete(TimelineRow).where(TimelineRow.case_code.like("WD-2026%")))
            session.exec(delete(CaseRow).where(CaseRow.case_code.like("WD-2026%")))
        engine.dispose()
    out = done.stdout
    assert done.returncode == 0, done.stdout + done.stderr
    assert "时限规则推演：sla-2027.1（新）" in out
    assert "案件 6 件，已派遣 5 件" in out and "实际所用时限规则：sla-2026.1 5 件、未立案 1 件" in out
    cells = [[c.strip() for c in line.split("│")[1:-1]] for line in out.splitlines() if "%" in line]
    rows = {c[0].split()[0]: c[1:] for c in cells}  # "D-CG 文登区综合行政执法局(城管)" → D-CG
    assert rows["D-CG"] == ["1", "1", "100.0%", "100.0%", "0", "0", "0", "0", "0"]
    assert rows["T-LS"] == ["2", "1", "100.0%", "100.0%", "1", "1", "1", "0", "1"]
    assert rows["D-JJ"] == ["1", "1", "0.0%", "0.0%", "1", "1", "0", "1", "0"]
    assert rows["V-LS-XL"] == ["1", "1", "0.0%", "0.0%", "1", "1", "0", "0", "0"]
    assert rows["合计"] == ["6", "5", "60.0%", "60.0%", "3", "3", "1", "1", "1"]
    escalation = next(line for line in out.splitlines() if "WD-20260302-000002" in line and "不再提级" in line)
    assert "03-10 17:30" in escalation and "不会提级" in escalation and "sla-2026.1" in escalation
    escalation = next(line for line in out.splitlines() if "WD-20260302-000003" in line and "新增提级" in line)
    assert "未提级" in escalation and "03-06 17:30" in escalation  # D-JJ held it past Fri 6 Mar 17:30
    assert "WD-20260401-000001" not in out


def test_policy_simulate_refuses_bad_input_in_chinese(tmp_path):
    def run(*args: str):
        return CliRunner().invoke(cli.main, ["policy", "simulate", *args], env={"COLUMNS": "200"})

    good = str(write_policy(tmp_path))
    (tmp_path / "cut.json").write_text('{"version": "x", "levels": {', encoding="utf-8")
    result = run(str(tmp_path / "cut.json"), "--from", "2026-03-01", "--to", "2026-03-31")
    assert result.exit_code == 2 and "不是有效的 JSON" in result.output and "Traceback" not in result.output
    data = json.loads(Path(good).read_text(encoding="utf-8"))
    del data["levels"]["1"]
    data["levels"]["2"]["limit"]["unit"] = "weeks"
    (tmp_path / "wrong.json").write_text(json.dumps(data), encoding="utf-8")
    result = run(str(tmp_path / "wrong.json"), "--from", "2026-03-01", "--to", "2026-03-31")
    assert result.exit_code == 2 and "levels.2.limit.unit：取值不在允许范围内" in result.output
    del data["levels"]["2"]["limit"]["unit"]
    data["levels"]["2"]["limit"]["unit"] = "working_days"
    (tmp_path / "wrong.json").write_text(json.dumps(data), encoding="utf-8")
    result = run(str(tmp_path / "wrong.json"), "--from", "2026-03-01", "--to", "2026-03-31")
    assert result.exit_code == 2 and "缺少 1 级的时限" in result.output
    assert run(str(tmp_path / "none.json"), "--from", "2026-03-01", "--to", "2026-03-31").exit_code == 2
    for first, last, words in (
        ("2026-3-1", "2026-03-31", "日期格式应为 YYYY-MM-DD"),
        ("2026-03-31", "2026-03-01", "早于"),
        ("2025-01-01", "2026-01-02", "最长 366 天"),
    ):
        result = run(good, "--from", first, "--to", last)
        assert result.exit_code == 2 and words in result.output, result.output
