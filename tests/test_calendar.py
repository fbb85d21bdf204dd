"""工作日历 tests: real 2026 holidays and 调休, working-day/hour arithmetic, coverage fallback."""

from __future__ import annotations

import json
import logging
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from domain.calendar import BusinessCalendar, CalendarDataMissing, Deadline
from domain.policy import Duration, DurationUnit, cd, wd, wh

SH = ZoneInfo("Asia/Shanghai")
UTC = UTC


@pytest.fixture
def cal() -> BusinessCalendar:
    return BusinessCalendar()


def at(cal: BusinessCalendar, start: datetime, duration: Duration) -> datetime:
    deadline = cal.add(start, duration)
    assert deadline.at.utcoffset().total_seconds() == 0
    assert deadline.estimated is False
    return deadline.at


# --- facts: 2026 Spring Festival and National Day ---------------------------------------------


def test_spring_festival_2026(cal):
    assert cal.is_working_day(date(2026, 2, 13))  # Fri
    assert cal.is_working_day(date(2026, 2, 14))  # Sat, 调休
    for day in range(15, 24):  # Sun 15 .. Mon 23
        assert not cal.is_working_day(date(2026, 2, day)), day
    assert cal.is_working_day(date(2026, 2, 24))  # Tue, back at work
    assert cal.is_working_day(date(2026, 2, 27))  # Fri
    assert cal.is_working_day(date(2026, 2, 28))  # Sat, 调休
    assert not cal.is_working_day(date(2026, 3, 1))  # ordinary Sunday
    assert not cal.is_working_day(date(2026, 2, 7))  # ordinary Saturday


def test_national_day_and_mid_autumn_2026(cal):
    assert not cal.is_working_day(date(2026, 9, 19))  # Sat
    assert cal.is_working_day(date(2026, 9, 20))  # Sun, 调休
    for day in (25, 26, 27):  # Mid-Autumn Fri 25 .. Sun 27
        assert not cal.is_working_day(date(2026, 9, day)), day
    assert cal.is_working_day(date(2026, 9, 30))
    for day in range(1, 8):  # National Day Thu 1 .. Wed 7
        assert not cal.is_working_day(date(2026, 10, day)), day
    assert cal.is_working_day(date(2026, 10, 8))
    assert cal.is_working_day(date(2026, 10, 10))  # Sat, 调休
    assert not cal.is_working_day(date(2026, 10, 11))  # Sun


def test_covers(cal):
    assert cal.covers(date(2026, 5, 1))
    assert cal.covers(date(2004, 1, 1))
    assert not cal.covers(date(2031, 1, 1))
    assert BusinessCalendar(supplement={date(2031, 1, 1): False}).covers(date(2031, 1, 1))


# --- working days -----------------------------------------------------------------------------


def test_level_2_three_working_days_over_spring_festival(cal):
    # day0 Fri 13, day1 Sat 14 (调休), day2 Tue 24, day3 Wed 25
    assert at(cal, datetime(2026, 2, 13, 10, tzinfo=SH), wd(3)) == datetime(2026, 2, 25, 17, 30, tzinfo=SH)


def test_start_given_in_utc_is_read_in_local_time(cal):
    assert at(cal, datetime(2026, 2, 13, 2, tzinfo=UTC), wd(3)) == datetime(2026, 2, 25, 17, 30, tzinfo=SH)
    # 16:00 UTC Fri 13 is 00:00 Sat 14 in Shanghai, a 调休 working day
    assert at(cal, datetime(2026, 2, 13, 16, tzinfo=UTC), wd(0)) == datetime(2026, 2, 14, 17, 30, tzinfo=SH)


def test_start_after_close_rolls_to_next_working_day(cal):
    # day0 Sat 14, day1 Tue 24, day2 Wed 25, day3 Thu 26
    assert at(cal, datetime(2026, 2, 13, 18, tzinfo=SH), wd(3)) == datetime(2026, 2, 26, 17, 30, tzinfo=SH)
    # exactly at the close still counts as that day: a rung "1 working day after the deadline"
    assert at(cal, datetime(2026, 2, 13, 17, 30, tzinfo=SH), wd(3)) == datetime(2026, 2, 25, 17, 30, tzinfo=SH)
    assert at(cal, datetime(2026, 2, 25, 17, 30, tzinfo=SH), wd(1)) == datetime(2026, 2, 26, 17, 30, tzinfo=SH)
    assert at(cal, datetime(2026, 2, 13, 17, 29, tzinfo=SH), wd(3)) == datetime(2026, 2, 25, 17, 30, tzinfo=SH)


def test_start_on_holiday_rolls_to_next_working_day(cal):
    # day0 Tue 24, day3 Fri 27
    assert at(cal, datetime(2026, 2, 17, 10, tzinfo=SH), wd(3)) == datetime(2026, 2, 27, 17, 30, tzinfo=SH)
    assert at(cal, datetime(2026, 2, 17, 10, tzinfo=SH), wd(0)) == datetime(2026, 2, 24, 17, 30, tzinfo=SH)


def test_zero_working_days_is_close_of_the_same_day(cal):
    assert at(cal, datetime(2026, 3, 3, 9, 15, tzinfo=SH), wd(0)) == datetime(2026, 3, 3, 17, 30, tzinfo=SH)
    assert at(cal, datetime(2026, 3, 3, 7, tzinfo=SH), wd(0)) == datetime(2026, 3, 3, 17, 30, tzinfo=SH)
    # Fri evening -> next working day is Monday
    assert at(cal, datetime(2026, 3, 6, 20, tzinfo=SH), wd(0)) == datetime(2026, 3, 9, 17, 30, tzinfo=SH)


def test_negative_working_days(cal):
    # yellow warning 1 working day before the level-2 deadline
    assert at(cal, datetime(2026, 2, 25, 17, 30, tzinfo=SH), wd(-1)) == datetime(2026, 2, 24, 17, 30, tzinfo=SH)
    assert at(cal, datetime(2026, 2, 25, 17, 30, tzinfo=SH), wd(-2)) == datetime(2026, 2, 14, 17, 30, tzinfo=SH)
    assert at(cal, datetime(2026, 2, 24, 17, 30, tzinfo=SH), wd(-1)) == datetime(2026, 2, 14, 17, 30, tzinfo=SH)
    assert at(cal, datetime(2026, 2, 24, 10, tzinfo=SH), wd(-1)) == datetime(2026, 2, 14, 17, 30, tzinfo=SH)


def test_national_day_working_days(cal):
    # day0 Wed 30 Sep, day1 Thu 8 Oct, day2 Fri 9, day3 Sat 10 (调休)
    assert at(cal, datetime(2026, 9, 30, 10, tzinfo=SH), wd(3)) == datetime(2026, 10, 10, 17, 30, tzinfo=SH)
    # day0 Fri 18 Sep, day1 Sun 20 (调休)
    assert at(cal, datetime(2026, 9, 18, 12, tzinfo=SH), wd(1)) == datetime(2026, 9, 20, 17, 30, tzinfo=SH)
    # level 1, 7 working days: day0 Tue 29 Sep, then 30, 8, 9, 10 (Sat), 12, 13, 14 Oct
    assert at(cal, datetime(2026, 9, 29, 9, tzinfo=SH), wd(7)) == datetime(2026, 10, 14, 17, 30, tzinfo=SH)
    # yellow 2 working days before 12 Oct 17:30: Sat 10, Fri 9
    assert at(cal, datetime(2026, 10, 12, 17, 30, tzinfo=SH), wd(-2)) == datetime(2026, 10, 9, 17, 30, tzinfo=SH)


# --- working hours ----------------------------------------------------------------------------


def test_working_hours_across_lunch(cal):
    assert at(cal, datetime(2026, 3, 3, 11, tzinfo=SH), wh(2)) == datetime(2026, 3, 3, 14, 30, tzinfo=SH)
    assert at(cal, datetime(2026, 3, 3, 12, 30, tzinfo=SH), wh(1)) == datetime(2026, 3, 3, 14, 30, tzinfo=SH)
    assert at(cal, datetime(2026, 3, 3, 9, tzinfo=SH), wh(3)) == datetime(2026, 3, 3, 12, tzinfo=SH)


def test_working_hours_across_a_night(cal):
    assert at(cal, datetime(2026, 3, 3, 16, 30, tzinfo=SH), wh(2)) == datetime(2026, 3, 4, 10, tzinfo=SH)
    assert at(cal, datetime(2026, 3, 3, 7, tzinfo=SH), wh(1)) == datetime(2026, 3, 3, 10, tzinfo=SH)
    # a whole day's 7 hours ends at close, not next morning
    assert at(cal, datetime(2026, 3, 3, 9, tzinfo=SH), wh(7)) == datetime(2026, 3, 3, 17, 30, tzinfo=SH)
    # Friday afternoon -> Monday
    assert at(cal, datetime(2026, 3, 6, 17, tzinfo=SH), wh(2)) == datetime(2026, 3, 9, 10, 30, tzinfo=SH)


def test_working_hours_across_a_holiday(cal):
    # Fri 13: 1h, Sat 14 (调休): 7h, Tue 24: 1h
    assert at(cal, datetime(2026, 2, 13, 16, 30, tzinfo=SH), wh(9)) == datetime(2026, 2, 24, 10, tzinfo=SH)
    # sign limit of 2 working hours from Sat 14 17:00 -> 0.5h, then Tue 24 9:00 + 1.5h
    assert at(cal, datetime(2026, 2, 14, 17, tzinfo=SH), wh(2)) == datetime(2026, 2, 24, 10, 30, tzinfo=SH)
    # started on a holiday
    assert at(cal, datetime(2026, 10, 3, 15, tzinfo=SH), wh(2)) == datetime(2026, 10, 8, 11, tzinfo=SH)


def test_negative_working_hours(cal):
    # Tue 24 10:00 back 2h: 1h on the 24th, then Sat 14 from 17:30
    assert at(cal, datetime(2026, 2, 24, 10, tzinfo=SH), wh(-2)) == datetime(2026, 2, 14, 16, 30, tzinfo=SH)
    assert at(cal, datetime(2026, 3, 3, 14, tzinfo=SH), wh(-1)) == datetime(2026, 3, 3, 11, 30, tzinfo=SH)
    # level-3 yellow: 2 working hours before close
    assert at(cal, datetime(2026, 3, 3, 17, 30, tzinfo=SH), wh(-2)) == datetime(2026, 3, 3, 15, 30, tzinfo=SH)
    # from the evening, back into the afternoon
    assert at(cal, datetime(2026, 3, 3, 22, tzinfo=SH), wh(-1)) == datetime(2026, 3, 3, 16, 30, tzinfo=SH)
    # round trip
    there = at(cal, datetime(2026, 2, 13, 16, 30, tzinfo=SH), wh(9))
    assert at(cal, there, wh(-9)) == datetime(2026, 2, 13, 16, 30, tzinfo=SH)


def test_zero_working_hours_returns_start(cal):
    start = datetime(2026, 2, 17, 3, tzinfo=SH)  # holiday, night
    assert at(cal, start, wh(0)) == start


def test_calendar_days_and_hours_are_exact(cal):
    start = datetime(2026, 2, 13, 10, tzinfo=SH)
    assert at(cal, start, cd(3)) == datetime(2026, 2, 16, 10, tzinfo=SH)
    assert at(cal, start, Duration(amount=5, unit=DurationUnit.HOURS)) == datetime(2026, 2, 13, 15, tzinfo=SH)
    assert at(cal, start, cd(-1)) == datetime(2026, 2, 12, 10, tzinfo=SH)
    # no calendar data needed for exact units, even in an uncovered year
    strict = BusinessCalendar(uncovered="error")
    assert strict.add(datetime(2031, 3, 7, tzinfo=SH), cd(30)).estimated is False


def test_custom_hours():
    cal = BusinessCalendar(hours=((time(8, 30), time(17)),))
    assert at(cal, datetime(2026, 3, 3, 8, tzinfo=SH), wd(0)) == datetime(2026, 3, 3, 17, tzinfo=SH)
    assert at(cal, datetime(2026, 3, 3, 12, tzinfo=SH), wh(6)) == datetime(2026, 3, 4, 9, 30, tzinfo=SH)
    with pytest.raises(ValueError):
        BusinessCalendar(hours=((time(13), time(12)),))


def test_naive_datetime_rejected(cal):
    with pytest.raises(ValueError):
        cal.add(datetime(2026, 2, 13, 10), wd(3))
    with pytest.raises(ValueError):
        Deadline(at=datetime(2026, 2, 13, 10))


# --- coverage ---------------------------------------------------------------------------------


def test_uncovered_year_error_policy():
    strict = BusinessCalendar(uncovered="error")
    with pytest.raises(CalendarDataMissing) as info:
        strict.is_working_day(date(2031, 3, 3))
    assert info.value.year == 2031
    assert "2031" in str(info.value) and "chinesecalendar" in str(info.value)
    with pytest.raises(CalendarDataMissing, match="2031"):
        strict.add(datetime(2031, 3, 7, 10, tzinfo=SH), wd(3))
    assert strict.add(datetime(2026, 3, 3, 10, tzinfo=SH), wd(3)).estimated is False


def test_uncovered_year_weekend_fallback(caplog):
    cal = BusinessCalendar(uncovered="weekends")
    caplog.set_level(logging.WARNING, logger="closeloop.calendar")
    # day0 Fri 7 Mar 2031, then Mon 10, Tue 11, Wed 12
    deadline = cal.add(datetime(2031, 3, 7, 10, tzinfo=SH), wd(3))
    assert deadline == Deadline(at=datetime(2031, 3, 12, 17, 30, tzinfo=SH), estimated=True)
    assert cal.add(datetime(2031, 3, 7, 16, 30, tzinfo=SH), wh(2)) == Deadline(
        at=datetime(2031, 3, 10, 10, tzinfo=SH), estimated=True
    )
    assert cal.is_working_day(date(2031, 3, 10)) and not cal.is_working_day(date(2031, 3, 8))
    warnings = [r for r in caplog.records if r.name == "closeloop.calendar" and r.levelno == logging.WARNING]
    assert len(warnings) == 1  # once per year
    assert "2031" in warnings[0].getMessage()
    # a covered computation on the same calendar is not estimated
    assert cal.add(datetime(2026, 3, 3, 10, tzinfo=SH), wd(3)).estimated is False


def _write_supplement(tmp_path, data) -> str:
    path = tmp_path / "calendar_supplement.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return str(path)


def test_walk_into_uncovered_year_is_estimated(tmp_path):
    # 2030 covered by a supplement (no holidays at year end), 2031 not
    path = _write_supplement(tmp_path, {"2030": {"holidays": [], "workdays": []}})
    cal = BusinessCalendar.from_file(path)
    assert cal.add(datetime(2030, 12, 27, 10, tzinfo=SH), wd(1)).estimated is False  # Mon 30 Dec
    # day0 Tue 31 Dec 2030, Wed 1 Jan, Thu 2, Fri 3 (2031 by weekends only)
    assert cal.add(datetime(2030, 12, 31, 10, tzinfo=SH), wd(3)) == Deadline(
        at=datetime(2031, 1, 3, 17, 30, tzinfo=SH), estimated=True
    )
    with pytest.raises(CalendarDataMissing) as info:
        BusinessCalendar.from_file(path, uncovered="error").add(datetime(2030, 12, 31, 10, tzinfo=SH), wd(3))
    assert info.value.year == 2031


def test_supplement_file_is_honoured(tmp_path, caplog):
    path = _write_supplement(tmp_path, {"2031": {"holidays": ["2031-03-10"], "workdays": ["2031-03-15"]}})
    cal = BusinessCalendar.from_file(path, uncovered="error")
    caplog.set_level(logging.WARNING, logger="closeloop.calendar")
    assert cal.covers(date(2031, 6, 1))
    assert not cal.is_working_day(date(2031, 3, 10))  # Mon, holiday
    assert cal.is_working_day(date(2031, 3, 15))  # Sat, 调休
    assert cal.is_working_day(date(2031, 3, 11))  # ordinary Tue
    assert not cal.is_working_day(date(2031, 3, 16))  # ordinary Sun
    # day0 Fri 7, skip Mon 10, Tue 11, Wed 12, Thu 13
    assert cal.add(datetime(2031, 3, 7, 10, tzinfo=SH), wd(3)) == Deadline(
        at=datetime(2031, 3, 13, 17, 30, tzinfo=SH), estimated=False
    )
    assert cal.add(datetime(2031, 3, 14, 10, tzinfo=SH), wd(1)) == Deadline(
        at=datetime(2031, 3, 15, 17, 30, tzinfo=SH), estimated=False
    )
    assert not caplog.records
    with pytest.raises(CalendarDataMissing):
        cal.is_working_day(date(2032, 1, 5))


def test_supplement_overrides_package():
    cal = BusinessCalendar(supplement={date(2026, 3, 3): False, date(2026, 3, 7): True})
    assert not cal.is_working_day(date(2026, 3, 3))
    assert cal.is_working_day(date(2026, 3, 7))
    assert at(cal, datetime(2026, 3, 2, 18, tzinfo=SH), wd(0)) == datetime(2026, 3, 4, 17, 30, tzinfo=SH)


def test_supplement_file_rejects_inconsistent_data(tmp_path):
    with pytest.raises(ValueError):
        BusinessCalendar.from_file(_write_supplement(tmp_path, {"2031": {"holidays": ["2032-01-01"]}}))
    with pytest.raises(ValueError):
        BusinessCalendar.from_file(
            _write_supplement(tmp_path, {"2031": {"holidays": ["2031-03-10"], "workdays": ["2031-03-10"]}})
        )
