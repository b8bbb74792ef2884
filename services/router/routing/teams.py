"""Which team routes a qualified lead: a rule's `route_to` first, else the first team whose match holds."""

from __future__ import annotations

from typing import Any

from services.router.routing.model import Team
from shared.events import Reason

_EVAL_ERRORS = (ValueError, TypeError, KeyError, RuntimeError)


def choose_team(
    teams: list[Team], context: Any, route_to: str | None = None, route_rule: str | None = None
) -> tuple[Team, Reason]:
    """A team without `match` takes everything that reaches it; the last team catches the rest."""
    if route_to is not None:
        for team in teams:
            if team.name == route_to:
                return team, Reason(
                    code="team_routed",
                    message=f"rule {route_rule} routes to team {team.name}",
                    detail={"team": team.name, "rule": route_rule},
                )
    for team in teams:
        if team.match is None:
            return team, Reason(
                code="team_default",
                message=f"team {team.name} takes unmatched leads",
                detail={"team": team.name},
            )
        try:
            if team.match.execute(context) is True:
                return team, Reason(
                    code="team_matched",
                    message=f"team {team.name} matched",
                    detail={"team": team.name, "match": team.match_source},
                )
        except _EVAL_ERRORS:
            continue
    last = teams[-1]
    return last, Reason(
        code="team_fallback", message=f"no team matched: last team {last.name}", detail={"team": last.name}
    )
