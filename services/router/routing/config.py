"""Teams and reps from the config, each rep with the calendar that says when it works.

A rep's calendar: its own named one, else its team's (named, or weekdays 09:00-17:00 in the
team's zone) read in the rep's own time zone when it has one, as the SLA feature does.
"""

from __future__ import annotations

import cel

from services.router.routing.model import Rep, Team, Territory
from services.router.sla.calendar import Calendar
from services.router.sla.setup import default_calendar
from shared.config import RoutingConfig
from shared.config.schema import RepConfig, TeamConfig


def _calendar(team: TeamConfig, rep: RepConfig, calendars: dict[str, Calendar]) -> Calendar:
    if rep.calendar is not None:
        return calendars[rep.calendar]
    base = calendars[team.calendar] if team.calendar is not None else default_calendar(team.timezone)
    return base.model_copy(update={"timezone": rep.timezone}) if rep.timezone else base


def _territory(rep: RepConfig) -> Territory | None:
    t = rep.territory
    if t is None:
        return None
    return Territory(
        frozenset(t.countries), frozenset(i.lower() for i in t.industries), t.min_employees, t.max_employees
    )


def teams_from_config(config: RoutingConfig, calendars: dict[str, Calendar] | None = None) -> list[Team]:
    named = calendars or {}
    return [
        Team(
            name=t.name,
            policy=t.policy,
            reps=tuple(
                Rep(
                    r.id,
                    r.name,
                    r.active,
                    weight=r.weight,
                    max_open=r.max_open,
                    max_per_day=r.max_per_day,
                    max_per_week=r.max_per_week,
                    out_of_office=frozenset(r.out_of_office),
                    territory=_territory(r),
                    calendar=_calendar(t, r, named) if (t.calendar is None or t.calendar in named) else None,
                )
                for r in t.reps
            ),
            fallback_queue=t.fallback_queue,
            match=cel.compile(t.match) if t.match else None,
            match_source=t.match,
            working_hours=t.working_hours,
        )
        for t in config.teams
    ]
