"""Business-time clock: DST boundaries, holidays, pauses, and properties against a brute-force reference."""

from __future__ import annotations

import time as timer
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from services.router.sla.calendar import WEEKDAYS, Calendar
from services.router.sla.clock import NoBusinessTimeError, Pause, business_seconds, deadline

pytestmark = pytest.mark.unit

HOUR = 3600
NY, BERLIN, SYDNEY = "America/New_York", "Europe/Berlin", "Australia/Sydney"
WEEKDAYS_ONLY = ("mon", "tue", "wed", "thu", "fri")


def every_day(zone: str, *intervals: str, **extra: Any) -> Calendar:
    return Calendar(timezone=zone, hours={day: list(intervals) for day in WEEKDAYS}, **extra)


def nine_to_five(zone: str, **extra: Any) -> Calendar:
    return Calendar(timezone=zone, hours={day: ["09:00-17:00"] for day in WEEKDAYS_ONLY}, **extra)


def local(
    zone: str,
    year: int,
    month: int,
    day: int,
    hour: int = 0,
    minute: int = 0,
    second: int = 0,
    *,
    fold: int = 0,
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=ZoneInfo(zone), fold=fold)


def whole_local_day(zone: str, day: date) -> tuple[datetime, datetime]:
    after = day + timedelta(days=1)
    return local(zone, day.year, day.month, day.day), local(zone, after.year, after.month, after.day)


# --- DST boundaries: (zone, date, interval, expected business seconds over that local date) ---
DST_CASES = [
    # PRODUCT.md's examples: the skipped hour holds nothing, the repeated hour counts twice.
    (NY, date(2026, 3, 8), "01:00-04:00", 2 * HOUR),
    (NY, date(2026, 3, 8), "02:00-03:00", 0),
    (NY, date(2026, 3, 8), "00:00-24:00", 23 * HOUR),
    (NY, date(2026, 11, 1), "01:00-02:00", 2 * HOUR),
    (NY, date(2026, 11, 1), "00:00-01:00", 1 * HOUR),
    (NY, date(2026, 11, 1), "00:00-24:00", 25 * HOUR),
    (NY, date(2026, 11, 1), "01:30-01:45", 30 * 60),
    (BERLIN, date(2026, 3, 29), "01:00-04:00", 2 * HOUR),
    (BERLIN, date(2026, 3, 29), "02:00-03:00", 0),
    (BERLIN, date(2026, 3, 29), "00:00-24:00", 23 * HOUR),
    (BERLIN, date(2026, 10, 25), "02:00-03:00", 2 * HOUR),
    (BERLIN, date(2026, 10, 25), "01:00-04:00", 4 * HOUR),
    (BERLIN, date(2026, 10, 25), "09:00-17:00", 8 * HOUR),
    (BERLIN, date(2026, 10, 25), "00:00-24:00", 25 * HOUR),
    (SYDNEY, date(2026, 4, 5), "02:00-03:00", 2 * HOUR),
    (SYDNEY, date(2026, 4, 5), "00:00-24:00", 25 * HOUR),
    (SYDNEY, date(2026, 10, 4), "02:00-03:00", 0),
    (SYDNEY, date(2026, 10, 4), "01:00-04:00", 2 * HOUR),
    (SYDNEY, date(2026, 10, 4), "00:00-24:00", 23 * HOUR),
    # Half-hour DST, and zones that change at midnight (the day's first or last hour is the odd one).
    ("Australia/Lord_Howe", date(2026, 4, 5), "01:00-02:00", 90 * 60),
    ("Australia/Lord_Howe", date(2026, 10, 4), "02:00-03:00", 30 * 60),
    ("America/Santiago", date(2026, 4, 4), "23:00-24:00", 2 * HOUR),
    ("America/Santiago", date(2026, 4, 4), "00:00-24:00", 25 * HOUR),
    ("America/Santiago", date(2026, 9, 6), "00:00-02:00", 1 * HOUR),
    ("America/Havana", date(2026, 3, 8), "00:00-24:00", 23 * HOUR),
]


@pytest.mark.parametrize(("zone", "day", "interval", "expected"), DST_CASES)
def test_dst_days_hold_the_real_time_their_wall_clock_reads(
    zone: str, day: date, interval: str, expected: int
) -> None:
    calendar = every_day(zone, interval)
    start, end = whole_local_day(zone, day)
    assert business_seconds(calendar, start, end) == expected
    # The neighbouring days are ordinary, holding the interval's wall length each.
    ordinary = calendar.hours["mon"][0].close - calendar.hours["mon"][0].open
    before, after = start - timedelta(days=1), end + timedelta(days=1)
    assert business_seconds(calendar, before, after) == expected + 2 * ordinary


def test_deadline_inside_the_repeated_hour_uses_the_second_reading() -> None:
    calendar = every_day(NY, "01:00-02:00")
    start = local(NY, 2026, 11, 1)
    due = deadline(calendar, start, 90 * 60)
    # First reading 05:00-06:00 UTC (EDT), second 06:00-07:00 UTC (EST): 90 minutes in is 06:30 UTC.
    assert due == datetime(2026, 11, 1, 6, 30, tzinfo=UTC)
    assert due.astimezone(ZoneInfo(NY)) == local(NY, 2026, 11, 1, 1, 30, fold=1)


def test_deadline_skips_the_missing_hour() -> None:
    calendar = every_day(NY, "01:00-04:00")
    due = deadline(calendar, local(NY, 2026, 3, 8), HOUR + 1)
    assert due.astimezone(ZoneInfo(NY)) == local(NY, 2026, 3, 8, 3, 0, 1)


def test_deadline_reached_at_close_is_that_close_not_the_next_opening() -> None:
    calendar = nine_to_five(BERLIN)
    start = local(BERLIN, 2026, 10, 26, 9)
    assert deadline(calendar, start, 8 * HOUR) == local(BERLIN, 2026, 10, 26, 17)
    assert deadline(calendar, start, 8 * HOUR + 1) == local(BERLIN, 2026, 10, 27, 9, 0, 1)


def test_a_start_outside_hours_waits_for_the_opening() -> None:
    calendar = nine_to_five(NY)
    friday_evening = local(NY, 2026, 3, 6, 18, 30)
    assert deadline(calendar, friday_evening, 15 * 60) == local(NY, 2026, 3, 9, 9, 15)


def test_lunch_break_is_not_business_time() -> None:
    calendar = Calendar(timezone=BERLIN, hours={"mon": ["09:00-12:00", "13:00-17:00"]})
    monday = local(BERLIN, 2026, 3, 2, 11, 30)
    assert deadline(calendar, monday, HOUR) == local(BERLIN, 2026, 3, 2, 13, 30)
    assert business_seconds(calendar, monday, local(BERLIN, 2026, 3, 2, 14)) == 90 * 60


def test_sub_second_instants_are_measured_exactly_and_floored() -> None:
    calendar = every_day("UTC", "00:00-24:00")
    start = datetime(2026, 1, 1, 9, 0, 0, 600_000, tzinfo=UTC)
    assert business_seconds(calendar, start, start + timedelta(microseconds=1_399_999)) == 1
    assert business_seconds(calendar, start, start + timedelta(microseconds=999_999)) == 0
    assert deadline(calendar, start, 2) == start + timedelta(seconds=2)


# --- holidays, closed and open dates ---
def test_us_independence_day_is_observed_on_friday_july_3rd_2026() -> None:
    thursday, monday = local(NY, 2026, 7, 2, 9), local(NY, 2026, 7, 6, 17)
    with_holidays = nine_to_five(NY, holidays={"country": "US"})
    actual_day_only = nine_to_five(NY, holidays={"country": "US", "observed": False})
    assert business_seconds(with_holidays, thursday, monday) == 16 * HOUR
    assert business_seconds(actual_day_only, thursday, monday) == 24 * HOUR
    assert deadline(with_holidays, local(NY, 2026, 7, 2, 16), HOUR + 60) == local(NY, 2026, 7, 6, 9, 1)


def test_german_unity_day_is_closed() -> None:
    calendar = nine_to_five(BERLIN, holidays={"country": "DE", "subdivision": "BE"})
    assert calendar.is_holiday(date(2025, 10, 3))
    thursday, monday = local(BERLIN, 2025, 10, 2, 9), local(BERLIN, 2025, 10, 6, 17)
    assert business_seconds(calendar, thursday, monday) == 16 * HOUR


def test_a_custom_closed_date_is_closed() -> None:
    calendar = nine_to_five(NY, closed_dates=[date(2026, 3, 11)])
    assert business_seconds(calendar, local(NY, 2026, 3, 10), local(NY, 2026, 3, 13)) == 16 * HOUR


def test_an_extra_open_date_wins_over_a_holiday_and_may_open_a_weekend() -> None:
    calendar = nine_to_five(
        NY,
        holidays={"country": "US"},
        open_dates={"2026-07-03": ["09:00-17:00"], "2026-07-04": ["10:00-12:00"]},
    )
    assert business_seconds(calendar, local(NY, 2026, 7, 3), local(NY, 2026, 7, 6)) == 10 * HOUR
    listed = nine_to_five(NY, holidays={"country": "US"}, open_dates=["2026-07-03"])
    assert listed.intervals_on(date(2026, 7, 3)) == listed.hours["fri"]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"timezone": "Mars/Olympus"}, "unknown time zone 'Mars/Olympus'"),
        ({"hours": {"mon": ["17:00-09:00"]}}, "close 09:00 must be after open 17:00"),
        ({"hours": {"mon": ["09:00-09:00"]}}, "close 09:00 must be after open 09:00"),
        ({"hours": {"mon": ["09:00-13:00", "12:00-17:00"]}}, "overlap"),
        ({"hours": {"mon": ["9am-5pm"]}}, "is not a wall time"),
        ({"hours": {"funday": ["09:00-17:00"]}}, "funday"),
        ({"holidays": {"country": "XX"}}, "unknown holiday country 'XX'"),
        ({"holidays": {"country": "DE", "subdivision": "ZZ"}}, "DE has no subdivision 'ZZ'"),
        ({"open_dates": ["2026-07-04"]}, "falls on a day without working hours"),
        ({"closed_dates": ["2026-07-06"], "open_dates": ["2026-07-06"]}, "both closed and open"),
    ],
)
def test_bad_calendars_are_refused_with_a_clear_reason(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Calendar(**{"timezone": NY, "hours": {"mon": ["09:00-17:00"]}, **fields})


def test_naive_instants_backwards_ranges_and_closed_calendars_are_refused() -> None:
    calendar = nine_to_five(NY)
    with pytest.raises(ValueError, match="timezone-aware"):
        business_seconds(calendar, datetime(2026, 1, 1), datetime(2026, 1, 2, tzinfo=UTC))
    with pytest.raises(ValueError, match="before start"):
        business_seconds(calendar, local(NY, 2026, 1, 2), local(NY, 2026, 1, 1))
    with pytest.raises(NoBusinessTimeError):
        deadline(Calendar(timezone=NY, hours={}), local(NY, 2026, 1, 1), 1)


# --- pauses ---
def test_pauses_are_subtracted_once_even_when_they_overlap() -> None:
    calendar = nine_to_five(NY)
    monday = local(NY, 2026, 3, 2, 9)
    pauses: list[Pause] = [
        (local(NY, 2026, 3, 2, 10), local(NY, 2026, 3, 2, 11)),
        (local(NY, 2026, 3, 2, 10, 30), local(NY, 2026, 3, 2, 12)),
        (local(NY, 2026, 3, 2, 20), local(NY, 2026, 3, 3, 6)),  # closed hours: nothing to subtract
    ]
    assert business_seconds(calendar, monday, local(NY, 2026, 3, 2, 17), pauses) == 6 * HOUR
    assert deadline(calendar, monday, 2 * HOUR, pauses) == local(NY, 2026, 3, 2, 13)
    with pytest.raises(ValueError, match="before it starts"):
        business_seconds(calendar, monday, monday, [(monday, monday - timedelta(seconds=1))])


# --- properties against a brute-force reference ---
ZONES = [NY, BERLIN, SYDNEY, "Australia/Lord_Howe", "America/Santiago", "America/Havana", "Asia/Kolkata"]


def _transitions(zone_name: str) -> list[int]:
    zone, found, previous = ZoneInfo(zone_name), [], None
    first = int(datetime(2026, 1, 1, tzinfo=UTC).timestamp())
    for instant in range(first, first + 366 * 86_400, 1800):
        offset = datetime.fromtimestamp(instant, zone).utcoffset()
        if previous is not None and offset != previous:
            found.append(instant)
        previous = offset
    return found or [first + 40 * 86_400]


ANCHORS = {zone: _transitions(zone) for zone in ZONES}


@st.composite
def day_hours(draw: st.DrawFn) -> list[str]:
    """0-3 disjoint minute-aligned intervals; 24:00 allowed as a close."""
    cuts = sorted(draw(st.sets(st.integers(0, 24 * 60), max_size=6)))
    pairs = list(zip(cuts[::2], cuts[1::2], strict=False))
    return [f"{a // 60:02d}:{a % 60:02d}-{b // 60:02d}:{b % 60:02d}" for a, b in pairs]


@st.composite
def scenarios(draw: st.DrawFn, unit: int, max_span: int) -> tuple[Calendar, int, int, list[tuple[int, int]]]:
    """A calendar and a real [start, end) in `unit`-second steps near a DST transition, with pauses."""
    zone = draw(st.sampled_from(ZONES))
    hours = {day: draw(day_hours()) for day in WEEKDAYS}
    anchor = draw(st.sampled_from(ANCHORS[zone]))
    closed = draw(st.lists(st.integers(-2, 2), max_size=1))
    anchor_day = datetime.fromtimestamp(anchor, ZoneInfo(zone)).date()
    calendar = Calendar(
        timezone=zone, hours=hours, closed_dates=[anchor_day + timedelta(days=d) for d in closed]
    )
    start = anchor + unit * draw(st.integers(-2 * max_span // unit, max_span // unit))
    end = start + unit * draw(st.integers(0, max_span // unit))
    pauses = []
    for _ in range(draw(st.integers(0, 2))):
        begin = start + unit * draw(st.integers(-10, max_span // unit))
        pauses.append((begin, begin + unit * draw(st.integers(0, max_span // unit // 3))))
    return calendar, start, end, pauses


def brute_force(calendar: Calendar, start: int, end: int, pauses: list[tuple[int, int]], step: int) -> int:
    """Reads the local wall clock at each step; valid when every boundary is a multiple of `step`."""
    total = 0
    for instant in range(start, end, step):
        wall = datetime.fromtimestamp(instant, calendar.zone)
        seconds = wall.hour * 3600 + wall.minute * 60 + wall.second
        open_now = any(i.open <= seconds < i.close for i in calendar.intervals_on(wall.date()))
        if open_now and not any(a <= instant < b for a, b in pauses):
            total += step
    return total


def aware(instant: int) -> datetime:
    return datetime.fromtimestamp(instant, UTC)


def as_pauses(pauses: list[tuple[int, int]]) -> list[Pause]:
    return [(aware(a), aware(b)) for a, b in pauses]


properties = settings(deadline=None, max_examples=60)


@properties
@given(scenarios(unit=60, max_span=3 * 86_400))
def test_matches_a_minute_by_minute_reading_of_the_wall_clock(
    scenario: tuple[Calendar, int, int, list[tuple[int, int]]],
) -> None:
    calendar, start, end, pauses = scenario
    expected = brute_force(calendar, start, end, pauses, step=60)
    assert business_seconds(calendar, aware(start), aware(end), as_pauses(pauses)) == expected


@properties
@given(scenarios(unit=1, max_span=3 * 3600))
def test_matches_a_second_by_second_reading_near_transitions(
    scenario: tuple[Calendar, int, int, list[tuple[int, int]]],
) -> None:
    calendar, start, end, pauses = scenario
    expected = brute_force(calendar, start, end, pauses, step=1)
    assert business_seconds(calendar, aware(start), aware(end), as_pauses(pauses)) == expected


@properties
@given(scenarios(unit=1, max_span=4 * 86_400), st.floats(0, 1), st.integers(0, 4 * 86_400))
def test_additive_and_monotone(
    scenario: tuple[Calendar, int, int, list[tuple[int, int]]], split: float, extra: int
) -> None:
    calendar, start, end, pauses = scenario
    middle = start + int((end - start) * split)
    whole = business_seconds(calendar, aware(start), aware(end), as_pauses(pauses))
    first = business_seconds(calendar, aware(start), aware(middle), as_pauses(pauses))
    second = business_seconds(calendar, aware(middle), aware(end), as_pauses(pauses))
    assert whole == first + second
    assert first <= whole <= business_seconds(calendar, aware(start), aware(end + extra), as_pauses(pauses))


@properties
@given(scenarios(unit=1, max_span=2 * 86_400), st.integers(1, 3 * 86_400))
def test_deadline_is_the_earliest_instant_reaching_the_target(
    scenario: tuple[Calendar, int, int, list[tuple[int, int]]], target: int
) -> None:
    calendar, start, _, pauses = scenario
    assume(any(calendar.hours.values()))
    due = deadline(calendar, aware(start), target, as_pauses(pauses))
    assert business_seconds(calendar, aware(start), due, as_pauses(pauses)) == target
    assert business_seconds(calendar, aware(start), due - timedelta(seconds=1), as_pauses(pauses)) < target


def test_a_year_of_holidays_costs_little_per_day() -> None:
    """The timer loop calls deadline() often; a year-long closure must not step through time."""
    calendar = nine_to_five(
        NY,
        holidays={"country": "US"},
        closed_dates=[date(2026, 1, 1) + timedelta(days=d) for d in range(365)],
    )
    start = local(NY, 2026, 1, 1, 9)
    deadline(calendar, start, HOUR)  # warm the holiday cache
    began = timer.perf_counter()
    due = deadline(calendar, start, HOUR)
    per_day = (timer.perf_counter() - began) / 367
    assert due == local(NY, 2027, 1, 4, 10)  # Jan 1 2027 is New Year's Day, then a weekend
    assert per_day < 1e-3, f"{per_day * 1e6:.1f} µs per day iterated"


@pytest.mark.parametrize("hours", [["09:00-17:00"], ["00:00-24:00"], ["15:00-16:00", "20:00-21:00"]])
def test_a_wall_clock_that_jumps_back_a_whole_date_still_matches_the_reference(hours: list[str]) -> None:
    """Sitka, 1867-10-19 15:29:47 LMT became 1867-10-18 15:30:47: a later instant on an earlier date.

    No modern zone does this, but the clock must not assume local dates only move forward.
    """
    calendar = every_day("America/Sitka", *hours)
    switch = int(datetime(1867, 10, 19, 0, 31, 13, tzinfo=UTC).timestamp())
    for start, end in [(switch - 12 * HOUR, switch + 12 * HOUR), (switch - 1, switch + 12 * HOUR)]:
        expected = brute_force(calendar, start, end, [], step=1)
        assert business_seconds(calendar, aware(start), aware(end)) == expected
        due = deadline(calendar, aware(start), expected)
        assert business_seconds(calendar, aware(start), due) == expected
        assert due <= aware(end)
