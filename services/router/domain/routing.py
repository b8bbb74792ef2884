"""Routing: pick the team, then the rep, fairly.

Round robin walks reps in a fixed order (sorted by id, so config order cannot favour
anyone) and starts after the last rep this team assigned to. Inactive reps are never
chosen; with nobody eligible the lead waits in the team's fallback queue (`Queued`,
not an assignment: nobody owns it yet). Policies are a registry keyed by the names the
config accepts (`shared.config.schema.ROUTING_POLICIES`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import cel

from shared.config import RoutingConfig
from shared.config.schema import ROUTING_POLICIES
from shared.events import Reason


@dataclass(frozen=True)
class Rep:
    id: str
    name: str
    active: bool = True


@dataclass(frozen=True)
class Team:
    name: str
    policy: str
    reps: tuple[Rep, ...]
    fallback_queue: str
    match: Any | None = None  # compiled CEL program
    match_source: str | None = None


@dataclass(frozen=True)
class Assignment:
    """A rep owns the lead now."""

    team: str
    rep_id: str
    policy: str
    reasons: tuple[Reason, ...]


@dataclass(frozen=True)
class Queued:
    """Nobody was eligible: the lead waits in the team's queue, with why."""

    team: str
    queue: str
    policy: str
    reasons: tuple[Reason, ...]


Placement = Assignment | Queued
# A policy places a lead in a team given the team's last assigned rep (its rotation pointer).
RoutingPolicy = Callable[[Team, str | None], Placement]


def teams_from_config(config: RoutingConfig) -> list[Team]:
    return [
        Team(
            name=t.name,
            policy=t.policy,
            reps=tuple(Rep(r.id, r.name, r.active) for r in t.reps),
            fallback_queue=t.fallback_queue,
            match=cel.compile(t.match) if t.match else None,
            match_source=t.match,
        )
        for t in config.teams
    ]


def choose_team(teams: list[Team], context: dict[str, Any]) -> tuple[Team, Reason]:
    """First team whose `match` holds; a team without `match` takes everything that reaches it."""
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
        except (ValueError, TypeError, KeyError, RuntimeError):
            continue
    last = teams[-1]
    return last, Reason(
        code="team_fallback", message=f"no team matched: last team {last.name}", detail={"team": last.name}
    )


def round_robin(team: Team, last_rep_id: str | None) -> Placement:
    eligible = sorted((r for r in team.reps if r.active), key=lambda r: r.id)
    skipped = sorted(r.id for r in team.reps if not r.active)
    if not eligible:
        return Queued(
            team.name,
            team.fallback_queue,
            "round_robin",
            (
                Reason(
                    code="no_eligible_rep",
                    message=f"no active rep in {team.name}: fallback queue",
                    detail={"inactive": skipped, "queue": team.fallback_queue},
                ),
            ),
        )
    # The first eligible rep after the last one assigned; wraps around. A last rep that left
    # the team still orders correctly, because the comparison is on ids.
    chosen = next((r for r in eligible if last_rep_id is None or r.id > last_rep_id), eligible[0])
    return Assignment(
        team.name,
        chosen.id,
        "round_robin",
        (
            Reason(
                code="round_robin",
                message=f"next in rotation after {last_rep_id or 'nobody'}: {chosen.id}",
                detail={"previous": last_rep_id, "eligible": [r.id for r in eligible], "inactive": skipped},
            ),
        ),
    )


POLICIES: dict[str, RoutingPolicy] = {"round_robin": round_robin}
if set(POLICIES) != set(ROUTING_POLICIES):  # the config's vocabulary and the registry must agree
    raise RuntimeError(f"routing policies {sorted(ROUTING_POLICIES)} vs implemented {sorted(POLICIES)}")


def place(team: Team, last_rep_id: str | None) -> Placement:
    """Place a lead by the team's own policy (never a hard-coded one)."""
    return POLICIES[team.policy](team, last_rep_id)
