"""What one attempt came to, and what happens next: the retry schedule as pure functions.

2xx within the timeout is success. 410 Gone stops at once and disables the target. 429 and 503
honour Retry-After. Anything else (other status, timeout, connection error) waits for the next
slot of the schedule; after the last slot the message is dead-lettered.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Literal

# A Retry-After longer than this is capped: a CRM cannot park a handoff for days.
MAX_RETRY_AFTER_S = 36_000.0


@dataclass(frozen=True)
class Outcome:
    """One attempt. `permanent`: retrying cannot help (dead now); `gone`: also disable the target."""

    ok: bool
    status_code: int | None
    reason: str
    retry_after_s: float | None = None
    permanent: bool = False
    gone: bool = False


def http_outcome(status: int, headers: Mapping[str, str], now: datetime) -> Outcome:
    if 200 <= status < 300:
        return Outcome(True, status, f"{status} accepted")
    if status == 410:
        return Outcome(
            False, status, "410 Gone: the endpoint asked to stop; disabled", permanent=True, gone=True
        )
    retry_after = parse_retry_after(headers.get("retry-after"), now) if status in (429, 503) else None
    return Outcome(False, status, f"{status} from the endpoint", retry_after_s=retry_after)


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait, from `Retry-After: <seconds>` or `Retry-After: <HTTP date>`; None if absent/bad."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - now).total_seconds()
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_S)


Next = Literal["delivered", "retry", "dead", "gone"]


@dataclass(frozen=True)
class Decision:
    next: Next
    next_attempt_at: datetime | None = None


def decide(outcome: Outcome, tries: int, schedule: Sequence[float], now: datetime) -> Decision:
    """After try number `tries` (1-based, this round) ended in `outcome` at `now`: what next.

    `schedule[i]` is the delay before try i+1, so try `tries + 1` is due `schedule[tries]` after
    this one; a Retry-After from the endpoint replaces that delay (it knows when it can take it).
    """
    if outcome.ok:
        return Decision("delivered")
    if outcome.gone:
        return Decision("gone")
    if outcome.permanent or tries >= len(schedule):
        return Decision("dead")
    delay = outcome.retry_after_s if outcome.retry_after_s is not None else schedule[tries]
    return Decision("retry", now + timedelta(seconds=delay))
