"""The routing state a placement reads and advances: durable counters, one row per rep and team.

The domain gets a snapshot (`TeamState`) and returns the next one; the handler loads it once per
batch (row-locked) and writes it once. Day and week counters carry the local period they count,
so a new day starts at zero without any reset job.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from zoneinfo import ZoneInfo

from services.router.routing.model import Rep


@dataclass(frozen=True)
class RepCounters:
    open_leads: int = 0
    day_key: str = ""
    day_count: int = 0
    week_key: str = ""
    week_count: int = 0
    credit: int = 0  # smooth weighted round robin's running credit
    last_seq: int = -1  # the team sequence number of this rep's last assignment; -1 = never

    def on_day(self, key: str) -> int:
        return self.day_count if self.day_key == key else 0

    def on_week(self, key: str) -> int:
        return self.week_count if self.week_key == key else 0


@dataclass(frozen=True)
class Periods:
    day: str
    week: str


def periods(rep: Rep, now: datetime) -> Periods:
    """The rep's local day and ISO week at `now` (UTC when the rep has no calendar)."""
    local = now.astimezone(ZoneInfo(rep.calendar.timezone) if rep.calendar else ZoneInfo("UTC"))
    year, week, _ = local.isocalendar()
    return Periods(local.date().isoformat(), f"{year}-W{week:02d}")


@dataclass(frozen=True)
class TeamState:
    team: str
    seq: int = 0  # assignments made by this team so far
    last_rep_id: str | None = None
    reps: Mapping[str, RepCounters] = field(default_factory=dict)

    def counters(self, rep_id: str) -> RepCounters:
        return self.reps.get(rep_id) or RepCounters()

    def after(self, rep: Rep, now: datetime, credits: Mapping[str, int] | None = None) -> TeamState:
        """The state once `rep` took one more lead (and the weighted credits moved)."""
        reps = dict(self.reps)
        for rep_id, credit in (credits or {}).items():
            reps[rep_id] = replace(self.counters(rep_id), credit=credit)
        now_in = periods(rep, now)
        c = reps.get(rep.id) or RepCounters()
        reps[rep.id] = replace(
            c,
            open_leads=c.open_leads + 1,
            day_key=now_in.day,
            day_count=c.on_day(now_in.day) + 1,
            week_key=now_in.week,
            week_count=c.on_week(now_in.week) + 1,
            last_seq=self.seq,
        )
        return replace(self, seq=self.seq + 1, last_rep_id=rep.id, reps=reps)
