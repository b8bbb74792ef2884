"""Pauses in the pure SLA domain: paused time is never business time, deadlines move by exactly the
paused business time and never land inside a pause, a clock's pauses never run backwards, and a page
of due timers is decided in order (held while paused, each step seeing the ones before)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from services.router.routing import TeamState, teams_from_config
from services.router.sla.calendar import Calendar
from services.router.sla.clock import business_seconds, deadline
from services.router.sla.model import ClockRow, DueTimer
from services.router.sla.policy import elapsed, paused_wall_seconds, schedule
from services.router.sla.setup import SlaSetup
from services.router.sla.steps import plan_page, teams_to_lock
from shared.config import load_config
from shared.events import LeadReassigned, SlaEscalated
from tests.unit.test_sla_clock import NY, as_pauses, aware, local, nine_to_five, properties, scenarios

pytestmark = pytest.mark.unit

Scenario = tuple[Calendar, int, int, list[tuple[int, int]]]
CONFIG = load_config("examples/leadrelay.yaml")
SETUP = SlaSetup.from_config(CONFIG)
FIRST_TOUCH = SETUP.policy("first-touch")
MONDAY_10 = local(NY, 2026, 3, 2, 10)


def merged(pauses: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for begin, end in sorted(pauses):
        if out and begin <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((begin, end))
    return out


@properties
@given(scenarios(unit=1, max_span=3 * 86_400))
def test_paused_time_is_never_counted(scenario: Scenario) -> None:
    """Business time with pauses + the business time inside the pauses == business time without them."""
    calendar, start, end, pauses = scenario
    inside = sum(
        business_seconds(calendar, aware(max(a, start)), aware(min(b, end)))
        for a, b in merged(pauses)
        if min(b, end) > max(a, start)
    )
    with_pauses = business_seconds(calendar, aware(start), aware(end), as_pauses(pauses))
    assert with_pauses + inside == business_seconds(calendar, aware(start), aware(end))


@properties
@given(scenarios(unit=1, max_span=2 * 86_400), st.integers(1, 2 * 86_400))
def test_a_deadline_moves_by_the_paused_business_time_and_never_lands_in_a_pause(
    scenario: Scenario, target: int
) -> None:
    calendar, start, _, pauses = scenario
    assume(any(calendar.hours.values()))
    due = deadline(calendar, aware(start), target, as_pauses(pauses))
    end = int(due.timestamp())
    kept_off = sum(
        business_seconds(calendar, aware(max(a, start)), aware(min(b, end)))
        for a, b in merged(pauses)
        if min(b, end) > max(a, start)
    )
    # The deadline is where the unpaused clock reads the target plus what the pauses kept off it.
    assert business_seconds(calendar, aware(start), due) == target + kept_off
    assert not any(aware(a) < due <= aware(b) for a, b in pauses if b > a)


def clock_row(**changes: object) -> ClockRow:
    row = ClockRow(
        "c1", "lead-1", "first-touch", "first_touch", "inbound-amer", "ana", "api",
        MONDAY_10, MONDAY_10, MONDAY_10 + timedelta(minutes=5), "open",
    )  # fmt: skip
    return ClockRow(**{**row.__dict__, **changes})


def test_a_clock_pauses_and_resumes_in_order_even_when_activities_arrive_out_of_order() -> None:
    clock = clock_row()
    early = clock.pause(MONDAY_10 - timedelta(hours=1), "waiting_on_prospect")
    assert early.paused and early.pauses == ((MONDAY_10, None),) and early.breach_at is None
    with pytest.raises(ValueError, match="already paused"):
        early.pause(MONDAY_10, "again")
    backwards = early.resume(MONDAY_10 - timedelta(minutes=30))
    assert backwards.pauses == ((MONDAY_10, MONDAY_10),) and not backwards.paused
    resumed = clock.pause(MONDAY_10 + timedelta(minutes=2), "waiting_on_prospect").resume(
        MONDAY_10 + timedelta(hours=1)
    )
    # A second pause dated inside the first starts where the first ended.
    second = resumed.pause(MONDAY_10 + timedelta(minutes=30), "meeting_booked")
    assert second.pauses[-1] == (MONDAY_10 + timedelta(hours=1), None)
    assert second.pause_reasons == ("waiting_on_prospect", "meeting_booked")
    with pytest.raises(ValueError, match="not paused"):
        clock.resume(MONDAY_10)


def test_schedule_holds_while_paused_and_moves_every_timer_after_the_resume() -> None:
    assert FIRST_TOUCH is not None
    calendar = nine_to_five(NY)
    clock = clock_row().pause(MONDAY_10 + timedelta(minutes=2), "waiting_on_prospect")
    assert (
        schedule(FIRST_TOUCH, calendar, MONDAY_10, clock.pauses, MONDAY_10 + timedelta(hours=3)).timers == ()
    )
    # Paused from 10:02 to 17:30 Monday: 6 h 58 min of business time, the rest after closing.
    resumed = clock.resume(local(NY, 2026, 3, 2, 17, 30))
    later = schedule(FIRST_TOUCH, calendar, MONDAY_10, resumed.pauses, local(NY, 2026, 3, 3, 8))
    assert [(t.key, t.at) for t in later.timers] == [
        ("warning", local(NY, 2026, 3, 3, 9, 2)),  # 2 minutes Monday + 2 minutes Tuesday
        ("breach", local(NY, 2026, 3, 3, 9, 3)),
        ("escalation.0.remind", local(NY, 2026, 3, 3, 9, 3)),
        ("escalation.1.reassign", local(NY, 2026, 3, 3, 9, 8)),
        ("escalation.2.notify_manager", local(NY, 2026, 3, 3, 9, 18)),
    ]
    took = elapsed(FIRST_TOUCH, calendar, MONDAY_10, local(NY, 2026, 3, 3, 9, 1), resumed.pauses)
    assert (took.business_seconds, took.paused_seconds, took.met) == (180, 7 * 3600 + 28 * 60, True)
    assert paused_wall_seconds(clock.pauses, MONDAY_10, MONDAY_10 + timedelta(minutes=12)) == 600


def due_timer(n: int, key: str, minutes: int, clock_id: str = "c1") -> DueTimer:
    kind = "escalation" if key.startswith("escalation") else key
    action = key.split(".")[2] if kind == "escalation" else None
    step = int(key.split(".")[1]) if kind == "escalation" else None
    at = MONDAY_10 + timedelta(minutes=minutes)
    return DueTimer(n, f"t{n}", clock_id, "lead-1", key, kind, action, None, step, at)


def test_a_page_is_decided_in_order_each_step_seeing_the_ones_before() -> None:
    teams = {t.name: t for t in teams_from_config(CONFIG.routing)}
    clocks = {
        "c1": clock_row(),
        "c2": clock_row(clock_id="c2", lead_id="lead-2"),
        "paused": clock_row(clock_id="paused").pause(MONDAY_10, "waiting_on_prospect"),
        "met": clock_row(clock_id="met", status="met"),
    }
    due = [
        due_timer(1, "warning", 4),
        due_timer(2, "escalation.1.reassign", 10),
        due_timer(3, "escalation.2.notify_manager", 20),
        due_timer(4, "escalation.1.reassign", 10, "c2"),
        due_timer(5, "breach", 5, "paused"),
        due_timer(6, "breach", 5, "met"),
        due_timer(7, "breach", 5, "gone"),
    ]
    assert [t.name for t in teams_to_lock(due, clocks, teams)] == ["inbound-amer"]
    now = MONDAY_10 + timedelta(minutes=20)
    plan = plan_page(SETUP, teams, due, clocks, {"inbound-amer": TeamState("inbound-amer")}, now)
    assert [t.id for t in plan.fired] == [1, 2, 3, 4]
    assert (plan.held, plan.cancelled) == ([5], [6, 7])
    types = [e.type for e in plan.events]
    assert types == ["sla.warning", "lead.reassigned", "sla.escalated", "lead.reassigned"]
    first, second = (e.payload(LeadReassigned) for e in plan.events if e.type == "lead.reassigned")
    assert (first.previous_rep_id, first.rep_id, second.rep_id) == (
        "ana",
        "ben",
        "chloe",
    )  # rotation moved on
    assert plan.events[2].payload(SlaEscalated).rep_id == "ben"  # the manager hears of the new owner
    assert plan.owners == {"c1": "ben", "c2": "chloe"}
    assert [(lead, rep) for lead, rep, _, _ in plan.transfers] == [("lead-1", "ben"), ("lead-2", "chloe")]
    assert plan.states["inbound-amer"].seq == 2
    assert [d.outcome for d in plan.decisions] == ["reassigned", "notify_manager", "reassigned"]


def test_now_is_irrelevant_to_a_finished_pause() -> None:
    assert FIRST_TOUCH is not None
    pauses = [(MONDAY_10, MONDAY_10 + timedelta(hours=1))]
    one = schedule(FIRST_TOUCH, nine_to_five(NY), MONDAY_10, pauses, MONDAY_10 + timedelta(hours=2))
    two = schedule(FIRST_TOUCH, nine_to_five(NY), MONDAY_10, pauses, datetime(2027, 1, 1, tzinfo=UTC))
    assert one == two
