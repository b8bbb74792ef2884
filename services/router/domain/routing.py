"""Moved to `services.router.routing` (one module per concern); kept so existing imports work."""

from services.router.routing import (
    POLICIES,
    Assignment,
    LeadFacts,
    Placement,
    Queued,
    Rep,
    Team,
    TeamState,
    choose_team,
    place,
    teams_from_config,
)

__all__ = [
    "POLICIES",
    "Assignment",
    "LeadFacts",
    "Placement",
    "Queued",
    "Rep",
    "Team",
    "TeamState",
    "choose_team",
    "place",
    "teams_from_config",
]
