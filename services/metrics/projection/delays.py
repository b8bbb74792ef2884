"""Each lead's speed-to-lead durations in minutes, computed once when the lead is folded.

Stored on `metrics_leads` (m0004) so the response-time report sorts stored doubles instead of
computing three interval subtractions per lead on every request. Plain Python arithmetic, the
same the independent computation in the tests does: what is stored is what the report shows.
"""

from __future__ import annotations

from datetime import datetime

DELAY_COLUMNS = ("speed_minutes", "system_minutes", "rep_minutes")


def minutes_between(later: datetime | None, earlier: datetime | None) -> float | None:
    return None if later is None or earlier is None else (later - earlier).total_seconds() / 60


def delay_minutes(
    captured: datetime | None, assigned: datetime | None, touched: datetime | None
) -> dict[str, float | None]:
    """speed to lead (capture → first touch), system delay (capture → assigned), rep delay."""
    return {
        "speed_minutes": minutes_between(touched, captured),
        "system_minutes": minutes_between(assigned, captured),
        "rep_minutes": minutes_between(touched, assigned),
    }
