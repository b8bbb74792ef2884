"""Cohort windows on event time, with boundaries at local midnight in the reporting time zone.

A March cohort in America/New_York starts at 2026-03-01 00:00 New York time (05:00 UTC), so
the boundaries move with DST exactly as a person reading the calendar expects.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

Period = Literal["all", "month", "quarter", "ytd", "custom"]
PERIODS: tuple[str, ...] = ("all", "month", "quarter", "ytd", "custom")
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")


class PeriodError(ValueError):
    """A period the caller asked for cannot be read (the API answers 422 with this message)."""


@dataclass(frozen=True)
class Window:
    start: datetime | None  # UTC, inclusive
    end: datetime | None  # UTC, exclusive
    label: str
    timezone: str

    def contains(self, at: datetime | None) -> bool:
        if at is None:
            return False
        return (self.start is None or at >= self.start) and (self.end is None or at < self.end)


def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=tz).astimezone(UTC)


def add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def month_start(text: str) -> date:
    if not (m := _MONTH.match(text)):
        raise PeriodError(f"month {text!r}: write it as YYYY-MM, like 2026-03")
    return date(int(m.group(1)), int(m.group(2)), 1)


def quarter_start(text: str) -> date:
    if not (m := _QUARTER.match(text)):
        raise PeriodError(f"quarter {text!r}: write it as YYYY-Qn, like 2026-Q1")
    return date(int(m.group(1)), (int(m.group(2)) - 1) * 3 + 1, 1)


def window(
    period: Period,
    timezone: str,
    *,
    now: datetime,
    month: str | None = None,
    quarter: str | None = None,
    year: int | None = None,
    start: datetime | date | None = None,
    end: datetime | date | None = None,
) -> Window:
    """The [start, end) of a cohort; dates are local midnights, datetimes must carry a zone."""
    tz = ZoneInfo(timezone)
    today = now.astimezone(tz).date()
    if period == "all":
        return Window(None, None, "all time", timezone)
    if period == "month":
        first = month_start(month) if month else today.replace(day=1)
        return Window(
            local_midnight(first, tz),
            local_midnight(add_months(first, 1), tz),
            first.strftime("%Y-%m"),
            timezone,
        )
    if period == "quarter":
        first = quarter_start(quarter) if quarter else date(today.year, (today.month - 1) // 3 * 3 + 1, 1)
        label = f"{first.year}-Q{(first.month - 1) // 3 + 1}"
        return Window(local_midnight(first, tz), local_midnight(add_months(first, 3), tz), label, timezone)
    if period == "ytd":
        y = year or today.year
        stop = (
            local_midnight(today + timedelta(days=1), tz)
            if y == today.year
            else local_midnight(date(y + 1, 1, 1), tz)
        )
        return Window(local_midnight(date(y, 1, 1), tz), stop, f"{y} year to date", timezone)
    lo, hi = _instant(start, tz), _instant(end, tz)
    if lo is not None and hi is not None and hi < lo:
        hi = lo  # `to` before `from`: an empty cohort, reported as such (zero leads), not an error
    label = f"{lo.isoformat() if lo else '…'} to {hi.isoformat() if hi else '…'}"
    return Window(lo, hi, label, timezone)


def _instant(value: datetime | date | None, tz: ZoneInfo) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime) and value.tzinfo is None:
        raise PeriodError("a datetime needs a time zone (Z or +hh:mm); or give a date")
    try:
        return value.astimezone(UTC) if isinstance(value, datetime) else local_midnight(value, tz)
    except (OverflowError, ValueError):
        # 0001-01-01 east of UTC, or 9999-12-31 west of it: before or after anything stored.
        return datetime.min.replace(tzinfo=UTC) if value.year < 2000 else datetime.max.replace(tzinfo=UTC)


def overlap_fraction(first_day: date, months: int, w: Window, tz: ZoneInfo) -> float:
    """Share of the calendar period [first_day, +months) that the window covers (spend proration)."""
    lo, hi = local_midnight(first_day, tz), local_midnight(add_months(first_day, months), tz)
    start = max(lo, w.start) if w.start else lo
    end = min(hi, w.end) if w.end else hi
    if end <= start:
        return 0.0
    return (end - start) / (hi - lo)
