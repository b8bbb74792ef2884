"""Place one lead in a team: screen the reps, let the team's policy choose, advance the state.

Pure: a snapshot in, the placement and the next snapshot out. The reason always lists the
candidates considered, who was skipped and why, the owner chosen and the policy.
"""

from __future__ import annotations

from datetime import datetime

from services.router.routing.eligibility import screen
from services.router.routing.model import Assignment, LeadFacts, Placement, Queued, Team
from services.router.routing.policies import POLICIES
from services.router.routing.state import TeamState
from shared.events import Reason


def place(team: Team, state: TeamState, lead: LeadFacts, now: datetime) -> tuple[Placement, TeamState]:
    eligible, skipped = screen(team, state, now)
    detail = {
        "policy": team.policy,
        "candidates": sorted(r.id for r in team.reps),
        "eligible": [r.id for r in eligible],
        "skipped": [s.as_json() for s in skipped],
        "previous": state.last_rep_id,
    }
    choice = POLICIES[team.policy](team, eligible, state, lead) if eligible else None
    if choice is None or choice.rep is None:
        why = choice.message if choice else f"no eligible rep in {team.name}"
        reason = Reason(
            code="no_eligible_rep",
            message=f"{why}: fallback queue {team.fallback_queue}",
            detail={**detail, **(choice.detail if choice else {}), "queue": team.fallback_queue},
        )
        return Queued(team.name, team.fallback_queue, team.policy, (reason,)), state
    reason = Reason(
        code=team.policy, message=choice.message, detail={**detail, **choice.detail, "chosen": choice.rep.id}
    )
    assignment = Assignment(team.name, choice.rep.id, team.policy, (reason,))
    return assignment, state.after(choice.rep, now, choice.credits)
