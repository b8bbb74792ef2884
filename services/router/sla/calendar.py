"""A business calendar: time zone, weekly working hours, holidays, closed and extra open dates.

Pure data plus one question, `intervals_on(local_date)`: which wall-clock intervals of that local
date are working time. The business-time clock (`clock.py`) turns those into real instants.
Wall times are kept as seconds since local midnight so that "24:00" (end of day) is expressible.
"""

from __future__ import annotations

import functools
import re
from datetime import date, time
from itertools import pairwise
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_SECONDS = 86_400
_WALL_TIME = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?$")


def parse_wall_time(value: Any) -> Any:
    """'09:30', '09:30:15', '24:00' (end of day) or a `datetime.time` -> seconds since local midnight."""
    if isinstance(value, time):
        if value.tzinfo is not None:
            raise ValueError("working hours are local wall times; drop the time zone from the time")
        return value.hour * 3600 + value.minute * 60 + value.second
    if isinstance(value, str):
        match = _WALL_TIME.match(value.strip())
        if not match:
            raise ValueError(f"{value!r} is not a wall time; write HH:MM like 09:00 (24:00 = end of day)")
        hours, minutes, seconds = (int(part or 0) for part in match.groups())
        if minutes > 59 or seconds > 59 or hours * 3600 + minutes * 60 + seconds > DAY_SECONDS:
            raise ValueError(f"{value!r} is not a wall time between 00:00 and 24:00")
        return hours * 3600 + minutes * 60 + seconds
    return value


def format_wall_time(seconds: int) -> str:
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours:02d}:{minutes:02d}" + (f":{secs:02d}" if secs else "")


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Interval(_Frozen):
    """Working time `[open, close)` in local wall time, as seconds since local midnight."""

    open: int = Field(ge=0, le=DAY_SECONDS)
    close: int = Field(ge=0, le=DAY_SECONDS)

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, value: Any) -> Any:
        # Ops write "09:00-17:00"; a (open, close) pair is accepted too.
        if isinstance(value, str):
            parts = value.split("-")
            if len(parts) != 2:
                raise ValueError(f"{value!r} is not an interval; write it as 09:00-17:00")
            return {"open": parts[0], "close": parts[1]}
        if isinstance(value, tuple | list) and len(value) == 2:
            return {"open": value[0], "close": value[1]}
        return value

    _parse = field_validator("open", "close", mode="before")(classmethod(lambda cls, v: parse_wall_time(v)))

    @model_validator(mode="after")
    def _close_after_open(self) -> Interval:
        if self.close <= self.open:
            raise ValueError(
                f"close {format_wall_time(self.close)} must be after open {format_wall_time(self.open)}; "
                "an interval cannot cross midnight, split it into ..-24:00 and 00:00-.."
            )
        return self

    def __str__(self) -> str:
        return f"{format_wall_time(self.open)}-{format_wall_time(self.close)}"


DayHours = tuple[Interval, ...]


def _sorted_without_overlap(intervals: DayHours, where: str) -> DayHours:
    ordered = tuple(sorted(intervals, key=lambda i: i.open))
    for before, after in pairwise(ordered):
        if after.open < before.close:
            raise ValueError(f"{where}: intervals {before} and {after} overlap; merge them into one")
    return ordered


class HolidaySource(_Frozen):
    """Public holidays from the `holidays` library; observed days (e.g. a Friday for a Saturday) count."""

    country: str = Field(min_length=2, description="ISO 3166-1 alpha-2 code, e.g. US or DE")
    subdivision: str | None = Field(default=None, description="state / province code, e.g. CA or BY")
    observed: bool = True

    @model_validator(mode="after")
    def _known(self) -> HolidaySource:
        try:
            holidays.country_holidays(self.country, subdiv=self.subdivision)
        except NotImplementedError as exc:
            if self.country not in holidays.list_supported_countries():
                raise ValueError(
                    f"unknown holiday country {self.country!r}; use an ISO 3166-1 alpha-2 code "
                    "supported by the `holidays` library, e.g. US, DE, GB, AU"
                ) from exc
            raise ValueError(
                f"{self.country} has no subdivision {self.subdivision!r}; valid ones: "
                + ", ".join(holidays.list_supported_countries()[self.country])
            ) from exc
        return self

    def dates_in(self, year: int) -> frozenset[date]:
        return _holiday_dates(self, year)


@functools.lru_cache(maxsize=256)
def _holiday_dates(source: HolidaySource, year: int) -> frozenset[date]:
    # The holidays library computes a whole year per call (~1 ms); the clock asks once per date.
    found = holidays.country_holidays(
        source.country, subdiv=source.subdivision, years=year, observed=source.observed
    )
    return frozenset(found.keys())


class Calendar(_Frozen):
    """When a team (or rep) works. Precedence for a date: extra open date > holiday / closed > weekday."""

    timezone: str = Field(description="IANA time zone, e.g. America/New_York")
    hours: dict[Weekday, DayHours] = Field(description="working intervals per weekday; absent = closed")
    holidays: HolidaySource | None = None
    closed_dates: frozenset[date] = frozenset()
    open_dates: dict[date, DayHours] = Field(
        default_factory=dict,
        description="dates worked even if holiday or weekend; a plain list of dates uses weekday hours",
    )
    business_day: int = Field(
        default=8 * 3600, gt=0, description="seconds in one business day, for durations like `1d`"
    )

    @model_validator(mode="before")
    @classmethod
    def _open_dates_default_to_weekday_hours(cls, data: Any) -> Any:
        if not isinstance(data, dict) or not isinstance(data.get("open_dates"), list | tuple | set):
            return data
        hours = data.get("hours", {})
        given = {date.fromisoformat(d) if isinstance(d, str) else d: None for d in data["open_dates"]}
        resolved = {}
        for day in given:
            weekday_hours = hours.get(WEEKDAYS[day.weekday()]) if isinstance(day, date) else None
            if not weekday_hours:
                raise ValueError(
                    f"open date {day} falls on a day without working hours; give its hours, "
                    f'e.g. open_dates: {{"{day}": ["09:00-13:00"]}}'
                )
            resolved[day] = weekday_hours
        return {**data, "open_dates": resolved}

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}; use an IANA name like Europe/Berlin") from exc
        return value

    @field_validator("hours")
    @classmethod
    def _sorted_hours(cls, value: dict[Weekday, DayHours]) -> dict[Weekday, DayHours]:
        return {day: _sorted_without_overlap(i, f"hours.{day}") for day, i in value.items()}

    @field_validator("open_dates")
    @classmethod
    def _sorted_open_dates(cls, value: dict[date, DayHours]) -> dict[date, DayHours]:
        for day, intervals in value.items():
            if not intervals:
                raise ValueError(f"open date {day} has no intervals; list it under closed_dates instead")
        return {day: _sorted_without_overlap(i, f"open_dates.{day}") for day, i in value.items()}

    @model_validator(mode="after")
    def _consistent(self) -> Calendar:
        both = sorted(self.closed_dates & self.open_dates.keys())
        if both:
            raise ValueError(f"{', '.join(map(str, both))} listed as both closed and open; keep one")
        return self

    # No derived state is cached on the instance: model_copy(update=...) skips validation and would
    # leave it stale. ZoneInfo caches zones itself, and holiday years are cached per source below.
    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def is_holiday(self, day: date) -> bool:
        return self.holidays is not None and day in _holiday_dates(self.holidays, day.year)

    def intervals_on(self, day: date) -> DayHours:
        """The working intervals of a local date, sorted; empty when the date is closed."""
        extra = self.open_dates.get(day)
        if extra is not None:
            return extra
        if day in self.closed_dates or self.is_holiday(day):
            return ()
        return self.hours.get(WEEKDAYS[day.weekday()], ())
