"""SLA policies: what ops may write, the timers a running clock gets, and what a stopped clock reports."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml
from pydantic import ValidationError

from services.router.sla import (
    BusinessDuration,
    Calendar,
    ManualClock,
    SlaPolicy,
    SystemClock,
    elapsed,
    schedule,
)

pytestmark = pytest.mark.unit

NY = ZoneInfo("America/New_York")
CALENDAR = Calendar(
    timezone="America/New_York",
    hours={day: ["09:00-17:00"] for day in ("mon", "tue", "wed", "thu", "fri")},
    holidays={"country": "US"},
)

POLICY_YAML = """
name: inbound-demo-request
applies_when: lead.source == "website" && lead.score >= 50
target: {event: first_touch, within: 15m}
warn_at: 0.8
escalation:
  - {action: remind}
  - {action: reassign, after: 30m}
  - {action: notify_manager, after: 1h}
  - {action: move_to_queue, after: 1d, queue: inbound-overflow}
pause_on: [waiting_on_customer, meeting_booked]
calendar: team
"""


def policy(**changes: Any) -> SlaPolicy:
    return SlaPolicy.model_validate({**yaml.safe_load(POLICY_YAML), **changes})


def ny(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=NY)


def test_a_policy_reads_as_ops_write_it() -> None:
    parsed = policy()
    assert parsed.applies_when == 'lead.source == "website" && lead.score >= 50'
    assert parsed.target.event == "first_touch"
    assert parsed.target_seconds(CALENDAR) == 15 * 60
    assert parsed.warning_seconds(CALENDAR) == 12 * 60
    assert [str(step.after) for step in parsed.escalation] == ["0s", "30m", "1h", "1d"]
    assert parsed.pause_on == {"waiting_on_customer", "meeting_booked"}


@pytest.mark.parametrize(
    ("text", "days", "seconds"),
    [("15m", 0, 900), ("1h30m", 0, 5400), ("90s", 0, 90), ("1d", 1, 0), ("2d4h", 2, 14400), (45, 0, 45)],
)
def test_durations(text: str | int, days: int, seconds: int) -> None:
    duration = BusinessDuration.model_validate(text)
    assert (duration.days, duration.seconds) == (days, seconds)


def test_a_business_day_is_the_calendars_length() -> None:
    one_day = policy(target={"event": "accepted_or_rejected", "within": "1d"})
    assert one_day.target_seconds(CALENDAR) == 8 * 3600
    assert one_day.target_seconds(CALENDAR.model_copy(update={"business_day": 10 * 3600})) == 10 * 3600


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"name": "Bad Name"}, "name"),
        ({"target": {"event": "first_touch", "within": "soon"}}, "'soon' is not a duration"),
        ({"target": {"event": "first_touch", "within": "0m"}}, "more than zero"),
        ({"target": {"event": "replied", "within": "15m"}}, "first_touch"),
        ({"warn_at": 1.5}, "less than 1"),
        ({"warn_at": "20m"}, "must be shorter than the target"),
        ({"escalation": [{"action": "move_to_queue"}]}, "needs `queue`"),
        ({"escalation": [{"action": "remind", "queue": "x"}]}, "only applies to move_to_queue"),
        ({"escalation": [{"action": "page_ceo"}]}, "notify_manager"),
        ({"surprise": True}, "Extra inputs are not permitted"),
    ],
)
def test_bad_policies_are_refused_with_a_clear_reason(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        policy(**changes)


def test_schedule_runs_over_the_weekend_in_business_time() -> None:
    friday_late = ny(2026, 3, 6, 16, 50)
    plan = schedule(policy(), CALENDAR, friday_late, pauses=[], now=friday_late)
    at = {timer.key: timer.at.astimezone(NY) for timer in plan.timers}
    assert at == {
        "warning": ny(2026, 3, 9, 9, 2),
        "breach": ny(2026, 3, 9, 9, 5),
        "escalation.0.remind": ny(2026, 3, 9, 9, 5),
        "escalation.1.reassign": ny(2026, 3, 9, 9, 35),
        "escalation.2.notify_manager": ny(2026, 3, 9, 10, 5),
        "escalation.3.move_to_queue": ny(2026, 3, 10, 9, 5),
    }
    assert [t.kind for t in plan.timers] == ["warning", "breach", *["escalation"] * 4]
    assert plan.breach_at == ny(2026, 3, 9, 9, 5)
    assert plan.timers[-1].queue == "inbound-overflow"


def test_a_warning_before_breach_and_a_finished_pause_shift_the_timers() -> None:
    monday = ny(2026, 3, 9, 9)
    pause = [(ny(2026, 3, 9, 9, 5), ny(2026, 3, 9, 10, 5))]
    plan = schedule(policy(warn_at="5m", escalation=[]), CALENDAR, monday, pause, now=ny(2026, 3, 9, 11))
    assert [(t.key, t.at.astimezone(NY)) for t in plan.timers] == [
        ("warning", ny(2026, 3, 9, 10, 10)),
        ("breach", ny(2026, 3, 9, 10, 15)),
    ]


def test_a_running_pause_holds_every_timer_until_it_ends() -> None:
    monday = ny(2026, 3, 9, 9)
    plan = schedule(policy(), CALENDAR, monday, [(ny(2026, 3, 9, 9, 1), None)], now=ny(2026, 3, 9, 9, 30))
    assert plan.paused and plan.timers == () and plan.breach_at is None


def test_elapsed_reports_business_wall_and_paused_time() -> None:
    friday_late = ny(2026, 3, 6, 16, 50)
    touched = ny(2026, 3, 9, 9, 3)
    met = elapsed(policy(), CALENDAR, friday_late, touched)
    assert (met.business_seconds, met.target_seconds, met.met) == (13 * 60, 15 * 60, True)
    assert met.wall_seconds == int((touched - friday_late).total_seconds())

    paused = [(ny(2026, 3, 6, 16, 55), ny(2026, 3, 9, 9, 1))]
    late = elapsed(policy(), CALENDAR, friday_late, ny(2026, 3, 9, 9, 20), paused)
    assert late.business_seconds == 5 * 60 + 19 * 60 and not late.met
    assert late.paused_seconds == int((paused[0][1] - paused[0][0]).total_seconds())


def test_met_means_stopped_before_the_breach_instant() -> None:
    monday = ny(2026, 3, 9, 9)
    breach = schedule(policy(), CALENDAR, monday, [], now=monday).breach_at
    assert breach is not None
    assert elapsed(policy(), CALENDAR, monday, breach - timedelta(microseconds=1)).met
    assert not elapsed(policy(), CALENDAR, monday, breach).met


def test_a_stop_before_the_start_counts_as_zero() -> None:
    monday = ny(2026, 3, 9, 10)
    result = elapsed(policy(), CALENDAR, monday, monday - timedelta(minutes=5))
    assert (result.business_seconds, result.wall_seconds, result.met) == (0, 0, True)


def test_a_manual_clock_runs_a_week_of_timers_in_no_time() -> None:
    clock = ManualClock(ny(2026, 3, 6, 16, 50))
    plan = schedule(policy(), CALENDAR, clock.now(), [], clock.now())
    fired: list[str] = []
    while len(fired) < len(plan.timers):
        clock.advance(timedelta(minutes=1))
        fired += [t.key for t in plan.due(clock.now()) if t.key not in fired]
    assert fired[0] == "warning" and fired[-1] == "escalation.3.move_to_queue"
    assert clock.now() == plan.timers[-1].at
    with pytest.raises(ValueError, match="backwards"):
        clock.advance(-1)
    with pytest.raises(ValueError, match="timezone-aware"):
        clock.set(datetime(2026, 1, 1))


def test_the_system_clock_is_aware_and_current() -> None:
    now = SystemClock().now()
    assert now.tzinfo is not None
    assert abs(now - datetime.now(UTC)) < timedelta(seconds=5)
