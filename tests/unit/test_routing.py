"""Routing: team choice, then a fair round robin over active reps (properties, not examples)."""

from __future__ import annotations

import cel
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.router.domain.decision import Router
from services.router.domain.routing import (
    POLICIES,
    Queued,
    Rep,
    Team,
    choose_team,
    place,
    round_robin,
    teams_from_config,
)
from services.router.domain.rules import RuleSet, cel_context
from shared.config import parse_config
from shared.config.schema import ROUTING_POLICIES
from shared.events import LeadData

pytestmark = pytest.mark.unit

# No deadline: CI machines vary in speed.
no_deadline = settings(deadline=None)
rep_ids = st.text(alphabet="abcdefghij0123456789-_.", min_size=1, max_size=6)


@st.composite
def rosters(draw: st.DrawFn) -> tuple[Rep, ...]:
    """Reps with unique ids, any mix of active and inactive, at least one active."""
    ids = draw(st.lists(rep_ids, min_size=1, max_size=8, unique=True))
    flags = draw(st.lists(st.booleans(), min_size=len(ids), max_size=len(ids)))
    active_at = draw(st.integers(min_value=0, max_value=len(ids) - 1))
    flags[active_at] = True
    return tuple(Rep(rep_id, rep_id.upper(), active) for rep_id, active in zip(ids, flags, strict=True))


def _team(reps: tuple[Rep, ...] | list[Rep], match: str | None = None, name: str = "t") -> Team:
    return Team(
        name=name,
        policy="round_robin",
        reps=tuple(reps),
        fallback_queue=f"{name}-queue",
        match=cel.compile(match) if match else None,
        match_source=match,
    )


def _sequence(team: Team, last: str | None, count: int) -> list[str]:
    picked: list[str] = []
    for _ in range(count):
        last = round_robin(team, last).rep_id
        picked.append(last)
    return picked


# --- round robin properties -------------------------------------------------------------


@no_deadline
@given(reps=rosters(), start=st.one_of(st.none(), rep_ids), rounds=st.integers(min_value=1, max_value=4))
def test_round_robin_gives_every_active_rep_exactly_k_of_k_times_n(
    reps: tuple[Rep, ...], start: str | None, rounds: int
) -> None:
    active = {r.id for r in reps if r.active}
    picked = _sequence(_team(reps), start, rounds * len(active))

    assert {rep_id: picked.count(rep_id) for rep_id in set(picked)} == dict.fromkeys(active, rounds)


@no_deadline
@given(reps=rosters(), start=st.one_of(st.none(), rep_ids), count=st.integers(min_value=1, max_value=30))
def test_round_robin_never_picks_an_inactive_rep(
    reps: tuple[Rep, ...], start: str | None, count: int
) -> None:
    inactive = {r.id for r in reps if not r.active}
    team = _team(reps)
    last = start
    for _ in range(count):
        assignment = round_robin(team, last)
        assert assignment.rep_id not in inactive
        assert assignment.policy == "round_robin"
        assert assignment.team == "t"
        last = assignment.rep_id


@no_deadline
@given(data=st.data(), reps=rosters(), start=st.one_of(st.none(), rep_ids))
def test_round_robin_does_not_depend_on_config_order(
    data: st.DataObject, reps: tuple[Rep, ...], start: str | None
) -> None:
    shuffled = data.draw(st.permutations(reps))
    count = 2 * len(reps) + 1

    assert _sequence(_team(shuffled), start, count) == _sequence(_team(reps), start, count)


@no_deadline
@given(reps=rosters(), start=st.one_of(st.none(), rep_ids))
def test_round_robin_picks_the_next_active_id_after_the_last_one(
    reps: tuple[Rep, ...], start: str | None
) -> None:
    active = sorted(r.id for r in reps if r.active)
    after = [rep_id for rep_id in active if start is None or rep_id > start]
    expected = after[0] if after else active[0]

    assert round_robin(_team(reps), start).rep_id == expected


@no_deadline
@given(ids=st.lists(rep_ids, min_size=1, max_size=6, unique=True), start=st.one_of(st.none(), rep_ids))
def test_all_inactive_goes_to_the_fallback_queue(ids: list[str], start: str | None) -> None:
    team = _team([Rep(rep_id, rep_id, active=False) for rep_id in ids], name="emea")

    placement = round_robin(team, start)

    assert isinstance(placement, Queued)  # queued is not assigned: nobody owns the lead
    assert (placement.team, placement.queue, placement.policy) == ("emea", "emea-queue", "round_robin")
    (reason,) = placement.reasons
    assert reason.code == "no_eligible_rep"
    assert reason.detail == {"inactive": sorted(ids), "queue": "emea-queue"}


def test_last_rep_who_left_the_team_still_yields_the_next_in_id_order() -> None:
    team = _team([Rep("dora", "D"), Rep("ana", "A"), Rep("carl", "C")])

    assert round_robin(team, "bob").rep_id == "carl"  # bob left; carl is next after him
    assert round_robin(team, "zed").rep_id == "ana"  # past the end: wrap around
    assert round_robin(team, None).rep_id == "ana"


def test_round_robin_reason_explains_the_pick() -> None:
    team = _team([Rep("ana", "A"), Rep("ben", "B"), Rep("cy", "C", active=False)])

    (reason,) = round_robin(team, "ana").reasons

    assert reason.code == "round_robin"
    assert reason.detail == {"previous": "ana", "eligible": ["ana", "ben"], "inactive": ["cy"]}
    assert "ben" in reason.message


# --- team choice --------------------------------------------------------------------------

US = 'has(lead.country) && lead.country == "US"'
BIG = "has(lead.employees) && lead.employees >= 1000"


def _ctx(**fields: object) -> dict[str, object]:
    return cel_context(LeadData(email="a@b.co", **fields), "api")  # type: ignore[arg-type]


def test_choose_team_picks_the_first_matching_team() -> None:
    teams = [_team([Rep("a", "A")], BIG, "enterprise"), _team([Rep("b", "B")], US, "amer")]

    team, reason = choose_team(teams, _ctx(country="US", employees=5000))

    assert team.name == "enterprise"
    assert (reason.code, reason.detail) == ("team_matched", {"team": "enterprise", "match": BIG})


def test_choose_team_skips_teams_that_do_not_match() -> None:
    teams = [_team([Rep("a", "A")], BIG, "enterprise"), _team([Rep("b", "B")], US, "amer")]

    team, reason = choose_team(teams, _ctx(country="US", employees=5))

    assert (team.name, reason.code) == ("amer", "team_matched")


def test_team_without_match_takes_unmatched_leads_before_later_teams() -> None:
    teams = [
        _team([Rep("a", "A")], US, "amer"),
        _team([Rep("b", "B")], None, "catchall"),
        _team([Rep("c", "C")], "true", "never"),
    ]

    team, reason = choose_team(teams, _ctx(country="FR"))

    assert team.name == "catchall"
    assert (reason.code, reason.detail) == ("team_default", {"team": "catchall"})


def test_choose_team_falls_back_to_the_last_team_when_none_match() -> None:
    teams = [_team([Rep("a", "A")], US, "amer"), _team([Rep("b", "B")], BIG, "enterprise")]

    team, reason = choose_team(teams, _ctx(country="FR"))

    assert team.name == "enterprise"
    assert (reason.code, reason.detail) == ("team_fallback", {"team": "enterprise"})


def test_team_whose_match_errors_is_skipped() -> None:
    teams = [_team([Rep("a", "A")], "lead.employees > 10", "unguarded"), _team([Rep("b", "B")], None, "rest")]

    team, _ = choose_team(teams, _ctx())

    assert team.name == "rest"


# --- Router: qualify, choose a team, assign ---------------------------------------------------

CONFIG = """\
qualification:
  version: "r1"
  rules:
    - {name: big, when: 'has(lead.employees) && lead.employees >= 50', outcome: qualified}
routing:
  teams:
    - name: amer
      match: 'has(lead.country) && lead.country == "US"'
      reps:
        - {id: ben, name: Ben}
        - {id: ana, name: Ana}
    - name: emea
      fallback_queue: emea-queue
      reps:
        - {id: dmitri, name: Dmitri, active: false}
"""


def _router() -> Router:
    config = parse_config(CONFIG, "test.yaml")
    return Router(RuleSet.from_config(config.qualification), teams_from_config(config.routing))


def test_router_refuses_no_teams() -> None:
    config = parse_config(CONFIG, "test.yaml")

    with pytest.raises(ValueError, match="at least one team"):
        Router(RuleSet.from_config(config.qualification), [])


def test_router_qualifies_with_its_ruleset() -> None:
    router = _router()

    assert router.qualify(LeadData(email="a@b.co", employees=80), "api").outcome == "qualified"
    assert router.qualify(LeadData(email="a@b.co"), "api").outcome == "nurtured"


def test_triage_agrees_with_qualify_and_choose_team() -> None:
    router = _router()
    qualified = LeadData(email="a@b.co", employees=80, country="US")
    nurtured = LeadData(email="a@b.co", country="US")

    triage = router.triage(qualified, "api")
    assert triage.qualification == router.qualify(qualified, "api")
    assert triage.team == router.choose_team(qualified, "api")
    assert router.triage(nurtured, "api").team is None  # no team is chosen for a lead that is not an MQL


def test_router_assign_puts_the_team_reason_first() -> None:
    router = _router()
    choice = router.choose_team(LeadData(email="a@b.co", country="us"), "api")

    assignment = router.assign(choice, last_rep_id="ana")

    assert (assignment.team, assignment.rep_id, assignment.policy) == ("amer", "ben", "round_robin")
    assert [r.code for r in assignment.reasons] == ["team_matched", "round_robin"]
    assert assignment.reasons[0] == choice.reason


def test_router_assign_to_fallback_queue_keeps_both_reasons() -> None:
    router = _router()
    choice = router.choose_team(LeadData(email="a@b.co", country="FR"), "api")

    placement = router.assign(choice, last_rep_id=None)

    assert isinstance(placement, Queued)
    assert (placement.team, placement.queue, placement.policy) == ("emea", "emea-queue", "round_robin")
    assert [r.code for r in placement.reasons] == ["team_default", "no_eligible_rep"]


def test_policies_are_a_registry_keyed_by_the_config_vocabulary() -> None:
    assert set(POLICIES) == set(ROUTING_POLICIES)
    team = _team([Rep("ana", "Ana"), Rep("ben", "Ben")])
    assert place(team, "ana") == POLICIES[team.policy](team, "ana")


def test_teams_from_config_keeps_order_reps_and_match() -> None:
    teams = teams_from_config(parse_config(CONFIG, "test.yaml").routing)

    assert [t.name for t in teams] == ["amer", "emea"]
    assert [r.id for r in teams[0].reps] == ["ben", "ana"]
    assert teams[0].match_source == 'has(lead.country) && lead.country == "US"'
    assert teams[1].match is None
    assert teams[1].reps == (Rep("dmitri", "Dmitri", active=False),)
