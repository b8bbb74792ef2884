"""Who may take a lead right now, and for everyone else, why not.

Checked in a fixed order so the reason given is the most basic one: inactive, weight 0, out of
office, outside working hours, then the caps (open leads, today, this week). Reps are ordered by id:
config order never favours anyone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from services.router.routing.model import Rep, Team
from services.router.routing.state import TeamState, periods


@dataclass(frozen=True)
class Skip:
    rep_id: str
    why: str  # inactive | weight_zero | out_of_office | outside_hours | cap_open | cap_day | cap_week

    def as_json(self) -> dict[str, str]:
        return {"rep": self.rep_id, "why": self.why}


def in_working_hours(rep: Rep, now: datetime) -> bool:
    calendar = rep.calendar
    if calendar is None:
        return True
    local = now.astimezone(calendar.zone)
    seconds = local.hour * 3600 + local.minute * 60 + local.second
    return any(i.open <= seconds < i.close for i in calendar.intervals_on(local.date()))


def why_not(rep: Rep, team: Team, state: TeamState, now: datetime) -> str | None:
    if not rep.active:
        return "inactive"
    if rep.weight <= 0:
        return "weight_zero"
    zone_now = now.astimezone(rep.calendar.zone) if rep.calendar else now
    if zone_now.date() in rep.out_of_office:
        return "out_of_office"
    if team.working_hours and not in_working_hours(rep, now):
        return "outside_hours"
    counters = state.counters(rep.id)
    if rep.max_open is not None and counters.open_leads >= rep.max_open:
        return "cap_open"
    if rep.max_per_day is not None or rep.max_per_week is not None:
        now_in = periods(rep, now)
        if rep.max_per_day is not None and counters.on_day(now_in.day) >= rep.max_per_day:
            return "cap_day"
        if rep.max_per_week is not None and counters.on_week(now_in.week) >= rep.max_per_week:
            return "cap_week"
    return None


def screen(team: Team, state: TeamState, now: datetime) -> tuple[list[Rep], list[Skip]]:
    eligible: list[Rep] = []
    skipped: list[Skip] = []
    for rep in sorted(team.reps, key=lambda r: r.id):
        why = why_not(rep, team, state, now)
        if why is None:
            eligible.append(rep)
        else:
            skipped.append(Skip(rep.id, why))
    return eligible, skipped
