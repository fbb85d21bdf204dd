"""时限规则 — SLA policy: how long each step may take, as data with a version.

Defaults come from the seeds (Bijiashan: level 3 当场处置, level 2 三日办结, level 1 七日办结);
a district ships its own policy in its seed file and each case records the version it used.
"""

from __future__ import annotations

from enum import Enum

from pydantic import BaseModel, Field

from domain.vocabulary import WarningLevel


class DurationUnit(str, Enum):
    """时限单位 — offices count in working days (工作日) as a rule; some limits are hours or days."""

    WORKING_DAYS = "working_days"
    WORKING_HOURS = "working_hours"
    CALENDAR_DAYS = "calendar_days"
    HOURS = "hours"
    MINUTES = "minutes"  # demonstrations and simulations (演示时限), not a statutory unit


DURATION_MAX = 100_000  # no limit or extension comes near this many days, hours or minutes

DURATION_UNIT_LABELS = {
    DurationUnit.WORKING_DAYS: "个工作日",
    DurationUnit.WORKING_HOURS: "个工作小时",
    DurationUnit.CALENDAR_DAYS: "天",
    DurationUnit.HOURS: "小时",
    DurationUnit.MINUTES: "分钟",
}


class Duration(BaseModel):
    """A limit such as "3 working days"; the business calendar turns it into an instant."""

    amount: int = Field(ge=-DURATION_MAX, le=DURATION_MAX)  # negative: counted back (the calendar)
    unit: DurationUnit

    def __str__(self) -> str:
        return f"{self.amount}{DURATION_UNIT_LABELS[self.unit]}"


def wd(n: int) -> Duration:
    return Duration(amount=n, unit=DurationUnit.WORKING_DAYS)


def wh(n: int) -> Duration:
    return Duration(amount=n, unit=DurationUnit.WORKING_HOURS)


def cd(n: int) -> Duration:
    return Duration(amount=n, unit=DurationUnit.CALENDAR_DAYS)


class LevelClock(BaseModel):
    """One warning level's clock: the limit from dispatch and the escalation ladder after it.

    ``yellow_before`` is counted back from the deadline; the three rungs forward from it
    (催办 → 督办 → 提级), so a late unit is urged, then supervised, then taken over one level up.
    """

    limit: Duration
    yellow_before: Duration
    urge_after: Duration
    supervise_after: Duration
    escalate_after: Duration


class SlaPolicy(BaseModel):
    """时限规则 — versioned; a case keeps the version it started with."""

    version: str
    levels: dict[WarningLevel, LevelClock]
    sign_limit: Duration = Field(description="签收时限, from dispatch")
    verify_limit: Duration = Field(description="核查时限, from the unit's completion")
    evaluation_window: Duration = Field(description="评价期限, from the verification")
    return_visit_delay: Duration = Field(description="回访, after the evaluation")
    visit_window: Duration = Field(description="how long a return visit waits for an answer")
    second_visit_delay: Duration = Field(description="二次回访, after the first visit")
    max_returns: int = Field(3, description="退单 cap before the center assigns bindingly")
    max_extension: Duration = Field(description="longest extension one request may ask for")

    def clock(self, level: WarningLevel) -> LevelClock:
        return self.levels[WarningLevel(level)]


DEFAULT_POLICY = SlaPolicy(
    version="sla-2026.1",
    levels={
        WarningLevel.LEVEL_3: LevelClock(
            limit=wd(0), yellow_before=wh(2), urge_after=wh(2), supervise_after=wh(4), escalate_after=wd(1)
        ),
        WarningLevel.LEVEL_2: LevelClock(
            limit=wd(3), yellow_before=wd(1), urge_after=wd(1), supervise_after=wd(2), escalate_after=wd(3)
        ),
        WarningLevel.LEVEL_1: LevelClock(
            limit=wd(7), yellow_before=wd(2), urge_after=wd(1), supervise_after=wd(2), escalate_after=wd(3)
        ),
    },
    sign_limit=wh(2),
    verify_limit=wd(2),
    evaluation_window=cd(3),
    return_visit_delay=wd(1),
    visit_window=cd(3),
    second_visit_delay=cd(30),
    max_returns=3,
    max_extension=wd(7),
)
