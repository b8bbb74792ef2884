"""Routing policies: each picks one rep among the eligible ones, deterministically.

Every policy sees reps sorted by id and breaks ties by id, so the config's list order favours
nobody. Fair turns come from durable per-rep counters (`TeamState`), not from a pointer into a
list: `least_recent` (round robin over any subset of reps, robust to reps coming and going) and
smooth weighted round robin credits (each rep within one lead of its exact share at any time).
The registry is keyed by the names the config accepts (`shared.config.schema.ROUTING_POLICIES`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from services.router.routing.model import LeadFacts, Rep, Team
from services.router.routing.state import TeamState
from shared.config.schema import ROUTING_POLICIES


@dataclass(frozen=True)
class Choice:
    rep: Rep | None  # None: the policy found nobody among the eligible reps
    message: str
    detail: dict[str, Any] = field(default_factory=dict)
    credits: Mapping[str, int] | None = None  # weighted credits to store


Policy = Callable[[Team, list[Rep], TeamState, LeadFacts], Choice]


def least_recent(reps: list[Rep], state: TeamState) -> Rep:
    """The rep whose last assignment is oldest (never assigned first; ties by id)."""
    return min(reps, key=lambda r: (state.counters(r.id).last_seq, r.id))


def round_robin(team: Team, eligible: list[Rep], state: TeamState, lead: LeadFacts) -> Choice:
    chosen = least_recent(eligible, state)
    return Choice(chosen, f"next in rotation after {state.last_rep_id or 'nobody'}: {chosen.id}")


def weighted(team: Team, eligible: list[Rep], state: TeamState, lead: LeadFacts) -> Choice:
    # Smooth weighted round robin (as nginx): every eligible rep earns its weight, the richest
    # takes the lead and pays the total back. Deterministic, and no burst to the heaviest rep.
    total = sum(r.weight for r in eligible)
    credits = {r.id: state.counters(r.id).credit + r.weight for r in eligible}
    chosen = max(eligible, key=lambda r: (credits[r.id], -_order(eligible, r)))
    credits[chosen.id] -= total
    return Choice(
        chosen,
        f"weighted turn: {chosen.id} (weight {chosen.weight} of {total})",
        {"weights": {r.id: r.weight for r in eligible}},
        credits,
    )


def territory(team: Team, eligible: list[Rep], state: TeamState, lead: LeadFacts) -> Choice:
    covering = [r for r in eligible if r.territory is not None and r.territory.covers(lead)]
    scope = "territory"
    if not covering:  # reps without a territory take what no territory covers
        covering = [r for r in eligible if r.territory is None]
        scope = "catch_all"
    segment = {"country": lead.country, "employees": lead.employees, "industry": lead.industry}
    if not covering:
        return Choice(None, "no eligible rep covers this lead's territory", {"segment": segment})
    chosen = least_recent(covering, state)
    return Choice(
        chosen,
        f"{scope}: {chosen.id} covers the lead ({len(covering)} covering)",
        {"segment": segment, "covering": [r.id for r in covering], "scope": scope},
    )


def account_owner(team: Team, eligible: list[Rep], state: TeamState, lead: LeadFacts) -> Choice:
    owner = lead.account_owner
    detail = {"account": lead.account, "owner": owner}
    for rep in eligible:
        if rep.id == owner:
            return Choice(rep, f"account {lead.account} is owned by {rep.id}", detail)
    chosen = least_recent(eligible, state)
    if owner is None:
        why = "no account owner"
    elif owner in {r.id for r in team.reps}:
        why = f"owner {owner} not eligible"
    else:
        why = f"owner {owner} not in team {team.name}"
    return Choice(chosen, f"{why}: round robin to {chosen.id}", detail)


def _order(reps: list[Rep], rep: Rep) -> int:
    return reps.index(rep)  # reps are sorted by id: the lower id wins a tie


POLICIES: dict[str, Policy] = {
    "round_robin": round_robin,
    "weighted": weighted,
    "territory": territory,
    "account_owner": account_owner,
}
if set(POLICIES) != set(ROUTING_POLICIES):  # the config's vocabulary and the registry must agree
    raise RuntimeError(f"routing policies {sorted(ROUTING_POLICIES)} vs implemented {sorted(POLICIES)}")
