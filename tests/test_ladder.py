"""黄灯 → 红灯 → 催办 → 督办 → 提级 at the right instants, on real holiday calendars.

The time-skipping server is started on the chosen day (libfaketime), so the workflow's own
clock, ``workflow.now()``, is in February or September 2026; expected instants are written out
by hand from the State Council's 2026 holiday notice.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from domain.vocabulary import EventKind, Lamp, Step
from tests.support import time_skipping, view

SH = ZoneInfo("Asia/Shanghai")
TOLERANCE = timedelta(seconds=30)


def first(v, kind, unit=None):
    return next(e for e in v.timeline if e.kind == kind and (unit is None or e.unit == unit))


def assert_at(v, kind, expected, unit=None):
    got = first(v, kind, unit).at
    assert abs(got - expected) <= TOLERANCE, f"{kind.value}: {got.astimezone(SH)} != {expected}"


async def test_level_two_started_the_friday_before_spring_festival(engine, tmp_path):
    # Fri 2026-02-13 09:00; holiday 02-15..02-23; Sat 02-14 and Sat 02-28 are make-up working days.
    async with time_skipping(engine, tmp_path, start=datetime(2026, 2, 13, 9, 0, tzinfo=SH)) as h:
        case = await h.start(grid="G-LS-XL-01")
        v = await h.register(case, "JM-002")  # level 2 → 交警大队, never signed for
        assert v.clock.deadline == datetime(2026, 2, 25, 17, 30, tzinfo=SH)  # Fri, Sat(调休), Tue, Wed
        assert first(v, EventKind.DISPATCHED).at.astimezone(SH).date() == datetime(2026, 2, 13).date()

        await h.env.sleep(timedelta(days=2))
        assert (await view(case)).lamp == Lamp.GREEN
        await h.env.sleep(timedelta(days=16))  # → 2026-03-03
        v = await view(case)

    assert_at(v, EventKind.SIGN_OVERDUE, datetime(2026, 2, 13, 11, 0, tzinfo=SH))  # 2 working hours
    assert_at(v, EventKind.YELLOW, datetime(2026, 2, 24, 17, 30, tzinfo=SH))  # 1 working day before
    assert_at(v, EventKind.RED, datetime(2026, 2, 25, 17, 30, tzinfo=SH))
    assert_at(v, EventKind.LADDER_URGE, datetime(2026, 2, 26, 17, 30, tzinfo=SH))
    assert_at(v, EventKind.LADDER_SUPERVISE, datetime(2026, 2, 27, 17, 30, tzinfo=SH))
    assert_at(v, EventKind.ESCALATED, datetime(2026, 2, 28, 17, 30, tzinfo=SH))  # the make-up Saturday
    escalated = first(v, EventKind.ESCALATED)
    assert escalated.unit == "WD-CENTER" and v.escalations == 1
    # The parent unit got a fresh clock: counted from Mon 03-02 (arrived after Saturday's close).
    assert (v.lead_unit, v.assignment, v.step, v.binding) == ("WD-CENTER", 2, Step.DISPATCH, True)
    assert abs(v.clock.started_at - escalated.at) <= TOLERANCE and v.clock.deadline == datetime(
        2026, 3, 5, 17, 30, tzinfo=SH
    )
    assert [t.status for t in v.tasks] == ["withdrawn", "open"]


async def test_level_one_across_national_day(engine, tmp_path):
    # Tue 2026-09-29; holiday 10-01..10-07; Sat 10-10 is a make-up working day.
    async with time_skipping(engine, tmp_path, start=datetime(2026, 9, 29, 9, 0, tzinfo=SH)) as h:
        case = await h.start(grid="G-LS-XL-01")
        v = await h.register(case, "AQ-001")  # 燃气安全隐患, level 1 → 住建局 (+ 应急管理局)
        assert v.level == 1 and v.clock.deadline == datetime(2026, 10, 14, 17, 30, tzinfo=SH)
        await h.env.sleep(timedelta(days=21))  # → 2026-10-20
        v = await view(case)

    assert_at(v, EventKind.SIGN_OVERDUE, datetime(2026, 9, 29, 11, 0, tzinfo=SH))
    assert_at(v, EventKind.YELLOW, datetime(2026, 10, 12, 17, 30, tzinfo=SH))  # 2 working days before
    assert_at(v, EventKind.RED, datetime(2026, 10, 14, 17, 30, tzinfo=SH))
    assert_at(v, EventKind.LADDER_URGE, datetime(2026, 10, 15, 17, 30, tzinfo=SH))
    assert_at(v, EventKind.LADDER_SUPERVISE, datetime(2026, 10, 16, 17, 30, tzinfo=SH))
    assert_at(v, EventKind.ESCALATED, datetime(2026, 10, 19, 17, 30, tzinfo=SH))
    assert v.lead_unit == "WD-CENTER" and v.lamp == Lamp.GREEN and v.escalations == 1
    red = first(v, EventKind.RED)
    assert red.unit == "D-ZJ"


async def test_timers_survive_a_worker_restart(engine, tmp_path):
    async with time_skipping(engine, tmp_path, start=datetime(2026, 2, 13, 9, 0, tzinfo=SH)) as h:
        # Without a workflow cache no task is pinned to the dying worker's sticky queue, which the
        # time-skipping server would otherwise hold until its timeout.
        await h.stop_worker()
        await h.start_worker(max_cached_workflows=0)
        case = await h.start(grid="G-LS-XL-01")
        await h.register(case, "JM-002")
        await h.stop_worker()  # the process dies with every timer pending
        await h.start_worker()  # a new process, new objects: only Temporal remembers the case
        await h.env.sleep(timedelta(days=13))  # → 2026-02-26
        v = await view(case)
    assert_at(v, EventKind.RED, datetime(2026, 2, 25, 17, 30, tzinfo=SH))
    assert v.lamp == Lamp.RED and v.lead_unit == "D-JJ"
