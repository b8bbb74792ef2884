"""SLA policies as ops write them, and the pure functions that turn one into timers and results.

Durations are business time: `15m`, `4h`, `1h30m`, `1d` (one business day = `Calendar.business_day`
seconds, 8 h unless the calendar says otherwise). Escalation offsets count business time after the
breach, so a ladder never reassigns at 3 a.m.; warning, breach and every step are deadlines from the
clock's start on the same calendar, with the same pauses.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from services.router.sla.calendar import Calendar
from services.router.sla.clock import Pause, business_seconds, deadline

StopEvent = Literal["first_touch", "accepted_or_rejected"]
EscalationAction = Literal["remind", "reassign", "notify_manager", "move_to_queue"]
TimerKind = Literal["warning", "breach", "escalation"]
OpenPause = tuple[datetime, datetime | None]  # a pause still running has no end yet

_NAME = r"^[a-z0-9][a-z0-9_.-]*$"
_DURATION = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BusinessDuration(_Frozen):
    """An amount of business time; whole business days stay apart because their length is the calendar's."""

    days: int = Field(default=0, ge=0)
    seconds: int = Field(default=0, ge=0)

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, value: Any) -> Any:
        if isinstance(value, bool):
            raise ValueError("a duration is text like 15m, 4h, 1h30m or 1d")
        if isinstance(value, int):
            return {"seconds": value}
        if isinstance(value, timedelta):
            return {"seconds": int(value.total_seconds())}
        if isinstance(value, str):
            match = _DURATION.match(value.replace(" ", ""))
            if not value.strip() or not match:
                raise ValueError(
                    f"{value!r} is not a duration; write 15m, 4h, 1h30m, 90s or 1d (business day)"
                )
            days, hours, minutes, seconds = (int(part or 0) for part in match.groups())
            return {"days": days, "seconds": hours * 3600 + minutes * 60 + seconds}
        return value

    def to_seconds(self, calendar: Calendar) -> int:
        return self.days * calendar.business_day + self.seconds

    def __str__(self) -> str:
        hours, rest = divmod(self.seconds, 3600)
        minutes, seconds = divmod(rest, 60)
        parts = [(self.days, "d"), (hours, "h"), (minutes, "m"), (seconds, "s")]
        return "".join(f"{n}{unit}" for n, unit in parts if n) or "0s"


class Target(_Frozen):
    """The clock stops when `event` happens; it is breached once `within` business time has elapsed."""

    event: StopEvent
    within: BusinessDuration

    @model_validator(mode="after")
    def _positive(self) -> Target:
        if self.within.days == 0 and self.within.seconds == 0:
            raise ValueError("target.within must be more than zero")
        return self


class WarnAt(_Frozen):
    """`0.8` warns when 80% of the target has elapsed; `10m` warns 10 business minutes before breach."""

    fraction: float | None = Field(default=None, gt=0, lt=1)
    before_breach: BusinessDuration | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_scalar(cls, value: Any) -> Any:
        if isinstance(value, float | int) and not isinstance(value, bool):
            return {"fraction": value}
        if isinstance(value, str):
            return {"before_breach": value}
        return value

    @model_validator(mode="after")
    def _exactly_one(self) -> WarnAt:
        if (self.fraction is None) == (self.before_breach is None):
            raise ValueError(
                "warn_at is either a fraction of the target (0.8) or a duration before breach (10m)"
            )
        return self


class EscalationStep(_Frozen):
    action: EscalationAction
    after: BusinessDuration = Field(
        default_factory=BusinessDuration, description="business time after breach"
    )
    queue: str | None = Field(
        default=None, description="only for move_to_queue: the queue to move the lead to"
    )

    @model_validator(mode="after")
    def _queue_only_for_move(self) -> EscalationStep:
        if self.action == "move_to_queue" and not self.queue:
            raise ValueError("move_to_queue needs `queue`: the queue the lead moves to")
        if self.action != "move_to_queue" and self.queue is not None:
            raise ValueError(f"`queue` only applies to move_to_queue, not {self.action}")
        return self


class SlaPolicy(_Frozen):
    name: str = Field(pattern=_NAME)
    applies_when: str = Field(default="true", min_length=1, description="CEL; evaluated by the router")
    target: Target
    warn_at: WarnAt | None = None
    escalation: tuple[EscalationStep, ...] = ()
    pause_on: frozenset[str] = Field(
        default=frozenset(),
        description="CRM stages (stage_changed) that pause the clock; any other activity resumes it",
    )
    calendar: str = Field(
        default="team", min_length=1, description="`team`, `rep` (the owner's), or a named calendar"
    )

    @model_validator(mode="after")
    def _warning_before_breach(self) -> SlaPolicy:
        before = self.warn_at.before_breach if self.warn_at else None
        within = self.target.within
        # Comparable without a calendar only when neither side counts business days.
        if before is not None and before.days == within.days == 0 and before.seconds >= within.seconds:
            raise ValueError(f"warn_at {before} before breach must be shorter than the target {within}")
        return self

    def pause_reason(self, kind: str, stage: str | None) -> str | None:
        """The `pause_on` entry an activity matches: the CRM stage a `stage_changed` moved the lead to."""
        if kind == "stage_changed" and stage is not None and stage in self.pause_on:
            return stage
        return None

    def target_seconds(self, calendar: Calendar) -> int:
        return self.target.within.to_seconds(calendar)

    def warning_seconds(self, calendar: Calendar) -> int | None:
        """Business seconds after the start at which to warn (never before the start)."""
        if self.warn_at is None:
            return None
        target = self.target_seconds(calendar)
        if self.warn_at.before_breach is not None:
            return max(0, target - self.warn_at.before_breach.to_seconds(calendar))
        return int(target * (self.warn_at.fraction or 0))


@dataclass(frozen=True)
class Timer:
    key: str  # stable within one clock, e.g. "breach" or "escalation.1.reassign": dedupe timers on it
    kind: TimerKind
    at: datetime
    action: EscalationAction | None = None
    queue: str | None = None


@dataclass(frozen=True)
class SlaSchedule:
    policy: str
    paused: bool  # a pause is running: no instant is known until it ends, then schedule again
    timers: tuple[Timer, ...]  # ordered by `at`; empty while paused

    @property
    def breach_at(self) -> datetime | None:
        return next((t.at for t in self.timers if t.kind == "breach"), None)

    def due(self, now: datetime) -> tuple[Timer, ...]:
        return tuple(t for t in self.timers if t.at <= now)


def schedule(
    policy: SlaPolicy,
    calendar: Calendar,
    started_at: datetime,
    pauses: Sequence[OpenPause],
    now: datetime,
) -> SlaSchedule:
    """The warning, breach and escalation instants of one running clock, as known at `now`."""
    if any(end is None and begin <= now for begin, end in pauses):
        return SlaSchedule(policy=policy.name, paused=True, timers=())
    closed = _closed(pauses, now)
    target = policy.target_seconds(calendar)
    timers = []
    warning = policy.warning_seconds(calendar)
    if warning is not None:
        timers.append(Timer("warning", "warning", deadline(calendar, started_at, warning, closed)))
    timers.append(Timer("breach", "breach", deadline(calendar, started_at, target, closed)))
    for index, step in enumerate(policy.escalation):
        at = deadline(calendar, started_at, target + step.after.to_seconds(calendar), closed)
        timers.append(Timer(f"escalation.{index}.{step.action}", "escalation", at, step.action, step.queue))
    # Stable sort: a step at the breach instant stays after the breach.
    return SlaSchedule(policy=policy.name, paused=False, timers=tuple(sorted(timers, key=lambda t: t.at)))


@dataclass(frozen=True)
class Elapsed:
    """What an `sla.met` (or a stopped, breached clock) reports."""

    business_seconds: int
    wall_seconds: int
    paused_seconds: int  # real time inside [start, stop) during which the clock was paused
    target_seconds: int
    met: bool  # stopped before the breach instant, i.e. business_seconds < target_seconds


def elapsed(
    policy: SlaPolicy,
    calendar: Calendar,
    started_at: datetime,
    stopped_at: datetime,
    pauses: Sequence[OpenPause] = (),
) -> Elapsed:
    """Business and wall time from start to stop; a stop before the start (clock skew) counts as zero."""
    stopped_at = max(stopped_at, started_at)
    closed = _closed(pauses, stopped_at)
    business = business_seconds(calendar, started_at, stopped_at, closed)
    target = policy.target_seconds(calendar)
    return Elapsed(
        business_seconds=business,
        wall_seconds=int((stopped_at - started_at).total_seconds()),
        paused_seconds=_covered_seconds(closed, started_at, stopped_at),
        target_seconds=target,
        met=business < target,
    )


def paused_wall_seconds(pauses: Sequence[OpenPause], start: datetime, end: datetime) -> int:
    """Real seconds in `[start, end)` during which the clock was paused (a running one counts to `end`)."""
    return _covered_seconds(_closed(pauses, end), start, end) if pauses else 0


def _closed(pauses: Sequence[OpenPause], now: datetime) -> list[Pause]:
    """Pauses with a running one cut at `now`; one that starts after `now` cannot be known yet."""
    return [(begin, end if end is not None else max(now, begin)) for begin, end in pauses]


def _covered_seconds(pauses: Sequence[Pause], start: datetime, end: datetime) -> int:
    covered, reached = timedelta(0), start
    for begin, finish in sorted(pauses):
        begin, finish = max(begin, reached), min(finish, end)
        if finish > begin:
            covered += finish - begin
            reached = finish
    return int(covered.total_seconds())
