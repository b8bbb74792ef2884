"""One routing decision for one captured lead: qualify, choose a team, then a rep.

Split in steps because the rep depends on the team's rotation position, which the
handler reads (and locks) from storage once the team is known.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from services.router.domain.routing import Assignment, Team, choose_team, round_robin
from services.router.domain.rules import Qualification, RuleSet, cel_context
from shared.events import LeadData, Reason


@dataclass(frozen=True)
class TeamChoice:
    team: Team
    reason: Reason


@dataclass(frozen=True)
class Triage:
    """The qualification and, for a qualified lead, the team that will route it."""

    qualification: Qualification
    team: TeamChoice | None


class Router:
    def __init__(self, rules: RuleSet, teams: list[Team]) -> None:
        if not teams:
            raise ValueError("routing needs at least one team")
        self.rules = rules
        self.teams = teams

    def qualify(self, lead: LeadData, source: str) -> Qualification:
        return self.rules.evaluate(lead, source)

    def choose_team(self, lead: LeadData, source: str) -> TeamChoice:
        return self._choose_team(cel_context(lead, source))

    def triage(self, lead: LeadData, source: str) -> Triage:
        """Qualify, then choose the team if qualified, building the expression context once."""
        context = cel_context(lead, source)
        qualification = self.rules.evaluate_context(context)
        team = self._choose_team(context) if qualification.outcome == "qualified" else None
        return Triage(qualification, team)

    def _choose_team(self, context: dict[str, Any]) -> TeamChoice:
        team, reason = choose_team(self.teams, context)
        return TeamChoice(team, reason)

    def assign(self, choice: TeamChoice, last_rep_id: str | None) -> Assignment:
        picked = round_robin(choice.team, last_rep_id)
        return Assignment(picked.team, picked.rep_id, picked.policy, (choice.reason, *picked.reasons))
