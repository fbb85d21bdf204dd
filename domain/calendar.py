"""工作日历 — the business calendar that turns a time limit into an instant.

Chinese offices count limits in working days (工作日): statutory holidays are rest days and the
make-up working days (调休, often a Saturday or Sunday) are working days, and both move every
year with the State Council's notice. The data comes from the maintained ``chinesecalendar``
package. When the package lags (next year's notice is out, the package not yet updated) a
district ships a supplement file with that year's holidays and make-up days.

For a year neither source covers, the policy is explicit: ``uncovered="error"`` refuses
(:class:`CalendarDataMissing`), ``uncovered="weekends"`` falls back to Monday–Friday, logs a
warning once per year and marks the result ``estimated`` — never silently wrong.

Pure: no I/O except reading the supplement file given to :meth:`BusinessCalendar.from_file`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

import chinese_calendar
from pydantic import BaseModel, field_validator

from domain.policy import Duration, DurationUnit

log = logging.getLogger("closeloop.calendar")

DEFAULT_HOURS: tuple[tuple[time, time], ...] = ((time(9), time(12)), (time(13, 30), time(17, 30)))
_MAX_REST_RUN = 366  # a longer run of rest days means the data is broken, not a holiday


class CalendarDataMissing(Exception):
    """No holiday data (package or supplement) for ``year`` and the calendar refuses to guess."""

    def __init__(self, year: int) -> None:
        self.year = year
        super().__init__(
            f"缺少 {year} 年的法定节假日与调休数据。请升级 chinesecalendar（pip install -U chinesecalendar），"
            f"或在工作日历补充文件中加入国务院办公厅 {year} 年放假安排。 / "
            f"No statutory holiday data for {year}. Upgrade chinesecalendar, or add the State Council's "
            f'{year} notice to the calendar supplement file: {{"{year}": {{"holidays": [...], "workdays": [...]}}}}.'
        )


class Deadline(BaseModel):
    """An instant computed by the calendar; ``estimated`` when the weekend fallback was used."""

    at: datetime
    estimated: bool = False

    @field_validator("at")
    @classmethod
    def _aware_utc(cls, v: datetime) -> datetime:
        if v.tzinfo is None or v.utcoffset() is None:
            raise ValueError("Deadline.at must be timezone-aware")
        return v.astimezone(UTC)


class BusinessCalendar:
    """Working days and office hours of one district, in its local time zone."""

    def __init__(
        self,
        tz: str = "Asia/Shanghai",
        hours: tuple[tuple[time, time], ...] = DEFAULT_HOURS,
        supplement: dict[date, bool] | None = None,
        uncovered: Literal["error", "weekends"] = "weekends",
        *,
        supplement_years: Iterable[int] = (),
    ) -> None:
        if uncovered not in ("error", "weekends"):
            raise ValueError(f"uncovered must be 'error' or 'weekends', not {uncovered!r}")
        hours = tuple((open_, close) for open_, close in hours)
        if not hours:
            raise ValueError("hours must hold at least one (open, close) segment")
        previous_close: time | None = None
        for open_, close in hours:
            if not open_ < close or (previous_close is not None and open_ < previous_close):
                raise ValueError(f"hours must be ordered, non-overlapping segments: {hours!r}")
            previous_close = close
        self.tz = ZoneInfo(tz)
        self.hours = hours
        self.uncovered = uncovered
        self.supplement: dict[date, bool] = dict(supplement or {})
        # Years the supplement describes completely: other weekdays work, other weekend days rest.
        self.supplement_years: frozenset[int] = frozenset(supplement_years)
        self._cache: dict[date, tuple[bool, bool]] = {}
        self._warned: set[int] = set()

    @classmethod
    def from_file(cls, path: str | Path, **kw) -> BusinessCalendar:
        """Load a supplement: ``{"2027": {"holidays": ["2027-01-01", ...], "workdays": [...]}}``."""
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
        supplement: dict[date, bool] = {}
        years: set[int] = set()
        for key, spec in raw.items():
            year = int(key)
            years.add(year)
            for field, working in (("holidays", False), ("workdays", True)):
                for text in spec.get(field, []):
                    d = date.fromisoformat(text)
                    if d.year != year:
                        raise ValueError(f"{path}: {d} is listed under year {year}")
                    if supplement.get(d, working) != working:
                        raise ValueError(f"{path}: {d} is listed both as holiday and as workday")
                    supplement[d] = working
        supplement.update(kw.pop("supplement", None) or {})
        years.update(kw.pop("supplement_years", ()))
        return cls(supplement=supplement, supplement_years=years, **kw)

    # --- days -------------------------------------------------------------------------------

    def covers(self, d: date) -> bool:
        """True when the package or the supplement knows whether ``d`` is a working day."""
        if d in self.supplement or d.year in self.supplement_years:
            return True
        try:
            chinese_calendar.is_workday(d)
        except NotImplementedError:
            return False
        return True

    def _day(self, d: date) -> tuple[bool, bool]:
        """(is working day, estimated) for ``d``; cached per date."""
        hit = self._cache.get(d)
        if hit is not None:
            return hit
        if d in self.supplement:
            result = (self.supplement[d], False)
        elif d.year in self.supplement_years:
            result = (d.weekday() < 5, False)
        else:
            try:
                result = (bool(chinese_calendar.is_workday(d)), False)
            except NotImplementedError:
                if self.uncovered == "error":
                    raise CalendarDataMissing(d.year) from None
                if d.year not in self._warned:
                    self._warned.add(d.year)
                    log.warning(
                        "no holiday data for %d (chinesecalendar or supplement): falling back to "
                        "Monday-Friday working days, weekends rest; deadlines in %d are estimated",
                        d.year,
                        d.year,
                    )
                result = (d.weekday() < 5, True)
        self._cache[d] = result
        return result

    def is_working_day(self, d: date) -> bool:
        return self._day(d)[0]

    # --- arithmetic -------------------------------------------------------------------------

    def add(self, start: datetime, duration: Duration) -> Deadline:
        """The instant ``duration`` after ``start`` (before it when the amount is negative)."""
        if start.tzinfo is None or start.utcoffset() is None:
            raise ValueError("start must be timezone-aware")
        n, unit = duration.amount, DurationUnit(duration.unit)
        if unit is DurationUnit.CALENDAR_DAYS:
            return Deadline(at=start + timedelta(days=n))
        if unit is DurationUnit.HOURS:
            return Deadline(at=start + timedelta(hours=n))
        if unit is DurationUnit.MINUTES:
            return Deadline(at=start + timedelta(minutes=n))
        if unit is DurationUnit.WORKING_HOURS and n == 0:
            return Deadline(at=start)

        estimated = False

        def working(d: date) -> bool:
            nonlocal estimated
            w, e = self._day(d)
            estimated = estimated or e
            return w

        local = start.astimezone(self.tz)
        if unit is DurationUnit.WORKING_DAYS:
            at = self._working_days(local, n, working)
        else:
            at = self._working_hours(local, timedelta(hours=n), working)
        return Deadline(at=at, estimated=estimated)

    def _at(self, d: date, t: time) -> datetime:
        return datetime.combine(d, t, tzinfo=self.tz)

    def _step(self, d: date, step: int, working: Callable[[date], bool]) -> date:
        """The next working day strictly after (step=1) or before (step=-1) ``d``."""
        for _ in range(_MAX_REST_RUN):
            d += timedelta(days=step)
            if working(d):
                return d
        raise ValueError(f"no working day within {_MAX_REST_RUN} days of {d}: calendar data is broken")

    def _working_days(self, local: datetime, n: int, working: Callable[[date], bool]) -> datetime:
        close = self.hours[-1][1]
        day = local.date()
        if n >= 0:
            # Inclusive of the close itself, so "1 working day after a deadline at 17:30" is the
            # next day's close; only later arrivals count from the next working day.
            if not (working(day) and local <= self._at(day, close)):
                day = self._step(day, 1, working)
            for _ in range(n):
                day = self._step(day, 1, working)
        else:
            for _ in range(-n):
                day = self._step(day, -1, working)
        return self._at(day, close)

    def _working_hours(self, local: datetime, left: timedelta, working: Callable[[date], bool]) -> datetime:
        forward = left > timedelta(0)
        left = abs(left)
        day, cur, rest_run = local.date(), local, 0
        while True:
            if working(day):
                rest_run = 0
                segments = self.hours if forward else tuple(reversed(self.hours))
                for open_, close in segments:
                    lo, hi = self._at(day, open_), self._at(day, close)
                    if forward:
                        if cur >= hi:
                            continue
                        begin = max(cur, lo)
                        if left <= hi - begin:
                            return begin + left
                        left -= hi - begin
                        cur = hi
                    else:
                        if cur <= lo:
                            continue
                        end = min(cur, hi)
                        if left <= end - lo:
                            return end - left
                        left -= end - lo
                        cur = lo
            else:
                rest_run += 1
                if rest_run > _MAX_REST_RUN:
                    raise ValueError(f"no working day within {_MAX_REST_RUN} days of {day}: calendar data is broken")
            day += timedelta(days=1 if forward else -1)
