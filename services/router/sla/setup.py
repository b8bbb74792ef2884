"""The SLA part of the config, resolved once at start: compiled conditions and each clock's calendar.

Pure (no I/O). A team without a named calendar works weekdays 09:00-17:00 in its own time zone;
`calendar: rep` uses the rep's named calendar, else the team's hours in the rep's zone, else the team's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cel

from services.router.sla.calendar import Calendar
from services.router.sla.policy import SlaPolicy
from shared.config import LeadRelayConfig, TeamConfig
from shared.config.schema import FeedbackConfig
from shared.events import Reason

_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")


def default_calendar(timezone: str) -> Calendar:
    return Calendar(timezone=timezone, hours={day: ("09:00-17:00",) for day in _WEEKDAYS})


@dataclass(frozen=True)
class CompiledPolicy:
    policy: SlaPolicy
    program: Any  # compiled CEL


class SlaSetup:
    def __init__(
        self,
        policies: list[SlaPolicy],
        calendars: dict[str, Calendar],
        teams: list[TeamConfig],
        feedback: FeedbackConfig | None = None,
    ) -> None:
        self.policies = [CompiledPolicy(p, cel.compile(p.applies_when)) for p in policies]
        self._by_name = {p.name: p for p in policies}
        self._calendars = calendars
        self._teams = {t.name: t for t in teams}
        self.feedback = feedback or FeedbackConfig()

    @classmethod
    def from_config(cls, config: LeadRelayConfig) -> SlaSetup:
        return cls(list(config.sla), dict(config.calendars), list(config.routing.teams), config.feedback)

    def policy(self, name: str) -> SlaPolicy | None:
        return self._by_name.get(name)

    def applicable(self, context: dict[str, Any]) -> tuple[list[SlaPolicy], list[Reason]]:
        """Policies whose `applies_when` holds; one that cannot be evaluated does not apply, with why."""
        chosen: list[SlaPolicy] = []
        problems: list[Reason] = []
        for compiled in self.policies:
            try:
                holds = compiled.program.execute(context) is True
            except (ValueError, TypeError, KeyError, RuntimeError) as exc:
                problems.append(
                    Reason(
                        code="sla_condition_error",
                        message=f"SLA policy {compiled.policy.name} could not be evaluated",
                        detail={"policy": compiled.policy.name, "error": str(exc)[:300]},
                    )
                )
                continue
            if holds:
                chosen.append(compiled.policy)
        return chosen, problems

    def team_calendar(self, team: str) -> Calendar:
        config = self._teams.get(team)
        if config is None:  # a team removed from the config since the clock started
            return default_calendar("UTC")
        if config.calendar is not None:
            return self._calendars[config.calendar]
        return default_calendar(config.timezone)

    def calendar_for(self, policy: SlaPolicy, team: str, rep_id: str | None) -> Calendar:
        if policy.calendar == "team":
            return self.team_calendar(team)
        if policy.calendar != "rep":
            return self._calendars[policy.calendar]
        config = self._teams.get(team)
        rep = next((r for r in config.reps if r.id == rep_id), None) if config else None
        if rep is not None and rep.calendar is not None:
            return self._calendars[rep.calendar]
        calendar = self.team_calendar(team)
        if rep is not None and rep.timezone is not None:
            # Same hours, read on the rep's own wall clock (Calendar caches nothing derived).
            return calendar.model_copy(update={"timezone": rep.timezone})
        return calendar

    def manager(self, team: str) -> str | None:
        config = self._teams.get(team)
        return config.manager if config else None
