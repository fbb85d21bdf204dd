"""The case rules without Temporal: interleavings of human actions with effects in flight."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from temporalio.exceptions import ApplicationError

from domain.commands import RoutingDecision
from domain.messages import (
    Actor,
    CloseCase,
    ComplaintInput,
    Completion,
    Evaluation,
    ProgressReport,
    Reassign,
    Registration,
    ReturnTask,
    SupervisorAction,
    UnitAction,
    Verification,
)
from domain.policy import DEFAULT_POLICY
from domain.vocabulary import Channel, EventKind, Role, Step, Verdict
from workflows.case import CARRIED_TIMELINE, CARRIED_UPDATES, Case
from workflows.core import Dispatch, Escalate, Reclock, Route

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
SUP = Actor(role=Role.SUPERVISOR, user="s")
JJ = Actor(role=Role.UNIT_STAFF, unit="D-JJ", user="jj")


def clock(start: datetime):
    from domain.messages import Clock

    d = start + timedelta(days=3)
    return Clock(
        started_at=start,
        sign_by=start + timedelta(hours=2),
        yellow_at=d - timedelta(days=1),
        deadline=d,
        urge_at=d + timedelta(days=1),
        supervise_at=d + timedelta(days=2),
        escalate_at=d + timedelta(days=3),
    )


def pending(case: Case, kind):
    found = [e for e in case.effects if isinstance(e, kind)]
    case.effects.clear()
    return found[-1]


def dispatched_case() -> Case:
    case = Case.collect(
        ComplaintInput(case_code="WD-X", channel=Channel.HOTLINE, grid="G-LS-XL-01", reported_at=T0), T0
    )
    case.register(Registration(actor=SUP, category="JM-002"), T0)
    plan = pending(case, Route)
    case.routed(RoutingDecision(lead="D-JJ", co_units=[], level=2, policy=DEFAULT_POLICY), clock(T0), T0)
    assert case.current(plan) is False  # the dispatch itself moved the epoch
    case.effects.clear()
    return case


def test_a_close_while_routing_is_not_undone_by_the_routing_result():
    case = Case.collect(
        ComplaintInput(case_code="WD-X", channel=Channel.HOTLINE, grid="G-LS-XL-01", reported_at=T0), T0
    )
    case.register(Registration(actor=SUP, category="JM-002"), T0)
    plan = pending(case, Route)
    case.close(CloseCase(actor=SUP, reason="群众撤回诉求"), T0)
    assert not case.current(plan)  # the workflow drops the routing result
    assert case.view.step == Step.CLOSED and [e.kind for e in case.view.timeline][-1] == EventKind.CLOSED


def test_a_reassigned_unit_can_no_longer_complete_and_a_later_close_wins():
    case = dispatched_case()
    case.sign_for(UnitAction(actor=JJ), T0)
    case.reassign(Reassign(actor=SUP, unit="D-CG"), T0)
    move = pending(case, Dispatch)
    with pytest.raises(ApplicationError) as err:
        case.check_complete(Completion(actor=JJ, result="已处理"))
    assert err.value.type == "WrongUnit"
    assert case.next_timer() is None  # no clock while the task moves: no rung can fire on the old one
    case.close(CloseCase(actor=SUP, reason="已由其他渠道解决"), T0)
    assert not case.current(move)


def test_an_escalation_in_flight_is_dropped_when_the_unit_returns_the_task():
    case = dispatched_case()
    case.escalate_now(SupervisorAction(actor=SUP), T0)
    up = pending(case, Escalate)
    case.return_task(ReturnTask(actor=JJ, reason="不属于本单位职责"), T0)
    assert not case.current(up) and up.unit == "D-JJ"


def test_rework_pauses_the_ladder_until_its_own_clock_arrives():
    case = dispatched_case()
    case.sign_for(UnitAction(actor=JJ), T0)
    case.complete(Completion(actor=JJ, result="已处理"), T0)
    case.effects.clear()
    late = T0 + timedelta(days=7)  # verified long after the original deadline
    case.verify(Verification(actor=SUP, passed=False, note="未整改到位"), late)
    reclock = pending(case, Reclock)
    assert reclock.previous and reclock.previous.deadline < late
    assert case.view.step == Step.HANDLE and case.next_timer() is None  # no burst of overdue rungs
    case.reclocked(clock(late))
    due_at, rung = case.next_timer()
    assert rung == "yellow" and due_at > late


def test_repeated_urges_within_the_hour_are_recorded_once():
    case = dispatched_case()
    for minutes in (0, 10, 59):
        case.urge(SupervisorAction(actor=SUP, note="请尽快"), T0 + timedelta(minutes=minutes))
    case.urge(SupervisorAction(actor=SUP, note="再次催办"), T0 + timedelta(minutes=61))
    assert [e.note for e in case.view.timeline if e.kind == EventKind.URGED] == ["请尽快", "再次催办"]


def test_a_visit_answer_cannot_be_no_answer():
    case = dispatched_case()
    case.view.step, case.view.awaiting = Step.EVALUATE, "visit"
    with pytest.raises(ApplicationError) as err:
        case.check_visit(Evaluation(actor=Actor(role=Role.CITIZEN), verdict=Verdict.NO_ANSWER))
    assert err.value.type == "InvalidInput"


def test_rungs_due_together_fire_together_but_escalation_waits_its_turn():
    case = dispatched_case()
    late = T0 + timedelta(days=10)  # every rung is due, 提级 included
    at, name = case.next_timer()
    case.fire(name, late)
    case.fire_due_rungs(late)
    kinds = [e.kind for e in case.view.timeline]
    assert [
        k
        for k in kinds
        if k
        in (EventKind.SIGN_OVERDUE, EventKind.YELLOW, EventKind.RED, EventKind.LADDER_URGE, EventKind.LADDER_SUPERVISE)
    ] == [EventKind.SIGN_OVERDUE, EventKind.YELLOW, EventKind.RED, EventKind.LADDER_URGE, EventKind.LADDER_SUPERVISE]
    assert not any(isinstance(e, Escalate) for e in case.effects)  # 提级 fires on its own, its effect drained first
    assert case.next_timer()[1] == "escalate"

    early = dispatched_case()
    at, name = early.next_timer()
    early.fire(name, at)  # only the first rung is due at its own instant
    early.fire_due_rungs(at)
    assert [e.kind for e in early.view.timeline].count(EventKind.YELLOW) == 0


def test_a_carried_case_is_bounded_and_resumes_where_it_was():
    case = dispatched_case()
    case.reassign(Reassign(actor=SUP, unit="D-CG"), T0)  # an earlier assignment, left behind by the carry
    case.dispatched("D-JJ", [], clock(T0), binding=True, signed=False, now=T0)
    case.sign_for(UnitAction(actor=JJ), T0)
    case.arming["verify"] = 7  # a timer token in flight
    for n in range(CARRIED_TIMELINE * 2):
        case.report_progress(ProgressReport(actor=JJ, note="进" * 2000), T0 + timedelta(minutes=n))
    case.effects.clear()
    stale = Escalate(case.epoch - 1, "D-JJ", "旧的提级")
    carried = case.carry([f"update-{n}" for n in range(CARRIED_UPDATES * 3)])

    assert len(carried.state.timeline) == CARRIED_TIMELINE and len(carried.applied) == CARRIED_UPDATES
    assert carried.applied[-1] == f"update-{CARRIED_UPDATES * 3 - 1}"  # the newest are the ones retried
    assert len(carried.model_dump_json().encode()) < 1_000_000  # far below Temporal's 2 MB payload limit
    resumed = Case.resume(carried.model_validate_json(carried.model_dump_json()))
    assert (
        resumed.view.seq == case.view.seq
        and resumed.view.timeline_omitted + len(resumed.view.timeline) == case.view.seq
    )
    assert (resumed.view.step, resumed.view.lead_unit, resumed.view.signed, resumed.view.clock) == (
        Step.HANDLE,
        "D-JJ",
        True,
        case.view.clock,
    )
    assert resumed.next_timer() == case.next_timer() and not resumed.current(stale)
    assert resumed.epoch == case.epoch and resumed.current(Escalate(case.epoch, "D-JJ", "新的提级"))
    assert resumed.arming == {"verify": 7}
    assert {t.assignment for t in resumed.view.tasks} == {case.view.assignment} and len(case.view.tasks) > 1
    with pytest.raises(ApplicationError):
        resumed.check_sign_for(UnitAction(actor=JJ))  # signed already: the rules hold in the new run
