"""Routing: which rep of a team takes a lead. Pure domain here; SQL in `repository.py`."""

from services.router.routing.config import teams_from_config
from services.router.routing.eligibility import Skip, screen
from services.router.routing.model import Assignment, LeadFacts, Placement, Queued, Rep, Team, Territory
from services.router.routing.placement import place
from services.router.routing.policies import POLICIES
from services.router.routing.state import RepCounters, TeamState
from services.router.routing.teams import choose_team

__all__ = [
    "POLICIES",
    "Assignment",
    "LeadFacts",
    "Placement",
    "Queued",
    "Rep",
    "RepCounters",
    "Skip",
    "Team",
    "TeamState",
    "Territory",
    "choose_team",
    "place",
    "screen",
    "teams_from_config",
]
