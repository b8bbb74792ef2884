"""The business-time clock: elapsed business seconds between real instants, and deadlines.

A real instant is business time when its local wall-clock reading lies in a working interval of its
own local date (see `Calendar.intervals_on`) and no pause covers it. Rather than stepping through
time, each local date's intervals are turned into real-time spans: on an ordinary day the UTC offset
is the same at both midnights, so wall `[open, close)` is real `[open - offset, close - offset)`.
On a day with a transition the day is cut into constant-offset real segments (transition found by
bisection), and each interval is intersected with every segment under that segment's offset. That
one rule gives both DST answers: a wall time skipped at spring-forward maps into no segment, and one
repeated at fall-back maps into two.

Instants are handled as integer microseconds since the epoch; the calendar's boundaries and zone
transitions are whole seconds, so the arithmetic is exact.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from services.router.sla.calendar import DAY_SECONDS, Calendar, DayHours

Pause = tuple[datetime, datetime]
Span = tuple[int, int]  # real [start, end), microseconds since the epoch

_US = 1_000_000
_DAY_US = DAY_SECONDS * _US
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
# How far ahead deadline() looks before deciding the calendar never opens (e.g. no hours at all).
MAX_SEARCH_DAYS = 3660


class NoBusinessTimeError(ValueError):
    """The calendar has too little working time ahead to ever reach the target."""


def business_seconds(calendar: Calendar, start: datetime, end: datetime, pauses: Sequence[Pause] = ()) -> int:
    """Whole seconds of business time in the real interval `[start, end)`, pauses excluded."""
    start_us, end_us = _to_us(start, "start"), _to_us(end, "end")
    if end_us < start_us:
        raise ValueError(f"end {end.isoformat()} is before start {start.isoformat()}")
    last_day = _local_date(calendar.zone, end_us) + timedelta(days=1)
    total = 0
    for span_start, span_end in _minus(_spans(calendar, start_us, last_day), _merged(pauses)):
        if span_start >= end_us:
            break
        total += max(0, min(span_end, end_us) - max(span_start, start_us))
    return total // _US


def deadline(
    calendar: Calendar, start: datetime, target_seconds: int, pauses: Sequence[Pause] = ()
) -> datetime:
    """The earliest instant (UTC) at which business time elapsed since `start` reaches the target."""
    if target_seconds < 0:
        raise ValueError(f"target_seconds must be >= 0, got {target_seconds}")
    start_us = _to_us(start, "start")
    needed = target_seconds * _US
    if needed == 0:
        return _from_us(start_us)
    last_day = _local_date(calendar.zone, start_us) + timedelta(days=MAX_SEARCH_DAYS)
    for span_start, span_end in _minus(_spans(calendar, start_us, last_day), _merged(pauses)):
        span_start = max(span_start, start_us)
        if span_end <= span_start:
            continue
        if span_end - span_start >= needed:
            return _from_us(span_start + needed)
        needed -= span_end - span_start
    raise NoBusinessTimeError(
        f"calendar {calendar.timezone} does not reach {target_seconds} business seconds "
        f"within {MAX_SEARCH_DAYS} days of {start.isoformat()} "
        "(no working hours, or a pause that never ends?)"
    )


def _spans(calendar: Calendar, from_us: int, last_day: date) -> Iterator[Span]:
    """Business spans in real-time order, from about `from_us` through local date `last_day`.

    Local dates are visited in order, but a fall-back that crosses midnight can make an instant of a
    later date precede one of an earlier date, so spans wait in a heap until no later date can
    produce an earlier one. A UTC offset is under 24 h, so date d's spans all start after
    (midnight of d, read as UTC) - 24 h.
    """
    zone = calendar.zone
    # An instant after from_us reads a wall time > wall(from_us) - 48 h, so two days back suffice.
    day = _local_date(zone, from_us) - timedelta(days=2)
    one_day = timedelta(days=1)
    pending: list[Span] = []
    while day <= last_day:
        intervals = calendar.intervals_on(day)
        if intervals:
            for span in _day_spans(zone, day, intervals):
                heapq.heappush(pending, span)
        next_day = day + one_day
        earliest_later_start = _wall_midnight_us(next_day) - _DAY_US
        while pending and pending[0][0] < earliest_later_start:
            yield heapq.heappop(pending)
        day = next_day
    while pending:
        yield heapq.heappop(pending)


def _day_spans(zone: ZoneInfo, day: date, intervals: DayHours) -> list[Span]:
    midnight = _wall_midnight_us(day) // _US  # wall seconds, as if the wall clock were UTC
    offsets = {*_midnight_offsets(zone, day), *_midnight_offsets(zone, day + timedelta(days=1))}
    if len(offsets) == 1:
        # No transition today (a pair that cancels within one day does not occur in tzdata).
        offset = offsets.pop()
        return [((midnight + i.open - offset) * _US, (midnight + i.close - offset) * _US) for i in intervals]
    # Every instant whose wall date is `day` lies in this real window.
    window_start = midnight - max(offsets)
    window_end = midnight + DAY_SECONDS - min(offsets)
    spans = []
    for segment_start, segment_end, offset in _constant_offset_segments(zone, window_start, window_end):
        for interval in intervals:
            span_start = max(segment_start, midnight + interval.open - offset)
            span_end = min(segment_end, midnight + interval.close - offset)
            if span_start < span_end:
                spans.append((span_start * _US, span_end * _US))
    return sorted(spans)


def _constant_offset_segments(zone: ZoneInfo, start: int, end: int) -> Iterator[tuple[int, int, int]]:
    """Split real seconds `[start, end)` into (start, end, utc_offset) pieces.

    Transitions in tzdata fall on whole seconds, so bisection over integer seconds finds them exactly.
    """
    offset = _offset_at(zone, start)
    while start < end:
        if _offset_at(zone, end - 1) == offset:
            yield start, end, offset
            return
        # Invariant: offset at `same` is `offset`, at `changed` it differs.
        same, changed = start, end - 1
        while changed - same > 1:
            middle = (same + changed) // 2
            if _offset_at(zone, middle) == offset:
                same = middle
            else:
                changed = middle
        yield start, changed, offset
        start, offset = changed, _offset_at(zone, changed)


def _minus(spans: Iterable[Span], pauses: list[Span]) -> Iterator[Span]:
    """Spans (sorted, disjoint) with the pauses (sorted, merged) cut out."""
    first = 0
    for start, end in spans:
        while first < len(pauses) and pauses[first][1] <= start:
            first += 1
        index = first
        while start < end:
            if index >= len(pauses) or pauses[index][0] >= end:
                yield start, end
                break
            pause_start, pause_end = pauses[index]
            if pause_start > start:
                yield start, pause_start
            start = max(start, pause_end)
            index += 1


def _merged(pauses: Sequence[Pause]) -> list[Span]:
    spans = []
    for pause_from, pause_to in pauses:
        begin, finish = _to_us(pause_from, "pause start"), _to_us(pause_to, "pause end")
        if finish < begin:
            raise ValueError(
                f"pause ends ({pause_to.isoformat()}) before it starts ({pause_from.isoformat()})"
            )
        spans.append((begin, finish))
    merged: list[Span] = []
    for begin, finish in sorted(spans):
        if merged and begin <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], finish))
        else:
            merged.append((begin, finish))
    return merged


def _midnight_offsets(zone: ZoneInfo, day: date) -> tuple[int, int]:
    """UTC offsets (seconds) of local midnight under both folds; they differ in a gap or a fold."""
    first = datetime(day.year, day.month, day.day, tzinfo=zone)
    return _seconds(first.utcoffset()), _seconds(first.replace(fold=1).utcoffset())


def _offset_at(zone: ZoneInfo, real_seconds: int) -> int:
    return _seconds(datetime.fromtimestamp(real_seconds, zone).utcoffset())


def _seconds(offset: timedelta | None) -> int:
    assert offset is not None  # a ZoneInfo always has an offset
    return offset.days * DAY_SECONDS + offset.seconds


def _wall_midnight_us(day: date) -> int:
    return (day.toordinal() - _EPOCH_ORDINAL) * _DAY_US


def _local_date(zone: ZoneInfo, instant_us: int) -> date:
    return _from_us(instant_us).astimezone(zone).date()


def _to_us(instant: datetime, what: str) -> int:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"{what} must be a timezone-aware datetime, got {instant.isoformat()}")
    return (instant - _EPOCH) // timedelta(microseconds=1)


def _from_us(instant_us: int) -> datetime:
    return _EPOCH + timedelta(microseconds=instant_us)
