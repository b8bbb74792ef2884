"""Routing: team choice, each policy's pick and its explanation, the Router's two pure steps."""

from __future__ import annotations

from datetime import UTC, datetime

import cel
import pytest

from services.router.domain.decision import Router
from services.router.qualification import RuleSet, cel_context
from services.router.routing import (
    POLICIES,
    Assignment,
    LeadFacts,
    Queued,
    Rep,
    Team,
    TeamState,
    Territory,
    choose_team,
    place,
    teams_from_config,
)
from services.router.routing.state import RepCounters
from services.router.sla.setup import default_calendar
from shared.config import parse_config
from shared.config.schema import ROUTING_POLICIES
from shared.events import LeadData

pytestmark = pytest.mark.unit
NOW = datetime(2026, 3, 2, 15, 30, tzinfo=UTC)  # Monday 10:30 in New York, 16:30 in Paris


def _team(
    reps: tuple[Rep, ...] | list[Rep], match: str | None = None, name: str = "t", policy: str = "round_robin"
) -> Team:
    return Team(
        name=name,
        policy=policy,
        reps=tuple(reps),
        fallback_queue=f"{name}-queue",
        match=cel.compile(match) if match else None,
        match_source=match,
    )


def _state(**last_seq: int) -> TeamState:
    return TeamState(
        "t",
        seq=max(last_seq.values(), default=-1) + 1,
        reps={k: RepCounters(last_seq=v) for k, v in last_seq.items()},
    )


# --- policies -----------------------------------------------------------------------------------


def test_round_robin_takes_the_least_recently_assigned_and_explains_everyone() -> None:
    team = _team([Rep("ben", "B"), Rep("ana", "A"), Rep("cy", "C", active=False)])

    placement, after = place(team, _state(ana=0, ben=1), LeadFacts(), NOW)

    assert isinstance(placement, Assignment) and placement.rep_id == "ana"
    (reason,) = placement.reasons
    assert reason.code == "round_robin"
    assert reason.detail["candidates"] == ["ana", "ben", "cy"]
    assert reason.detail["eligible"] == ["ana", "ben"]
    assert reason.detail["skipped"] == [{"rep": "cy", "why": "inactive"}]
    assert reason.detail["chosen"] == "ana"
    assert after.counters("ana").last_seq == 2 and after.seq == 3


def test_a_new_rep_gets_a_turn_at_once_but_only_one() -> None:
    team = _team([Rep("ana", "A"), Rep("ben", "B"), Rep("new", "N")])
    state = _state(ana=4, ben=5)
    picks = []
    for _ in range(6):
        placement, state = place(team, state, LeadFacts(), NOW)
        assert isinstance(placement, Assignment)
        picks.append(placement.rep_id)

    assert picks == ["new", "ana", "ben", "new", "ana", "ben"]


def test_weighted_is_smooth_not_bursty() -> None:
    team = _team([Rep("ana", "A", weight=3), Rep("ben", "B", weight=1)], policy="weighted")
    state = TeamState("t")
    picks = []
    for _ in range(8):
        placement, state = place(team, state, LeadFacts(), NOW)
        assert isinstance(placement, Assignment)
        picks.append(placement.rep_id)

    assert picks == ["ana", "ana", "ben", "ana"] * 2
    assert "weight 3 of 4" in place(team, TeamState("t"), LeadFacts(), NOW)[0].reasons[0].message


def test_territory_routes_by_segment_and_falls_back_to_catch_all() -> None:
    us_big = Rep("ana", "A", territory=Territory(frozenset({"US"}), min_employees=1000))
    us = Rep("ben", "B", territory=Territory(frozenset({"US"})))
    fintech = Rep("cy", "C", territory=Territory(industries=frozenset({"fintech"})))
    rest = Rep("dee", "D")
    team = _team([us_big, us, fintech, rest], policy="territory")

    def pick(**facts: object) -> str:
        placement, _ = place(team, TeamState("t"), LeadFacts(**facts), NOW)  # type: ignore[arg-type]
        assert isinstance(placement, Assignment)
        return placement.rep_id

    assert pick(country="US", employees=5000) == "ana"  # two cover it; never-assigned ties by id
    assert pick(country="US", employees=50) == "ben"
    assert pick(country="DE", industry="FinTech") == "cy"
    assert pick(country="DE") == "dee"


def test_territory_without_catch_all_queues_with_the_segment() -> None:
    team = _team([Rep("ana", "A", territory=Territory(frozenset({"US"})))], policy="territory")

    placement, _ = place(team, TeamState("t"), LeadFacts(country="FR"), NOW)

    assert isinstance(placement, Queued)
    assert placement.reasons[0].detail["segment"] == {"country": "FR", "employees": None, "industry": None}


def test_account_owner_first_else_rotation_with_why() -> None:
    team = _team([Rep("ana", "A"), Rep("ben", "B", max_open=0)], policy="account_owner")

    owned, _ = place(team, _state(ana=0), LeadFacts(account="Acme", account_owner="ana"), NOW)
    capped, _ = place(team, TeamState("t"), LeadFacts(account="Big", account_owner="ben"), NOW)
    outsider, _ = place(team, TeamState("t"), LeadFacts(account="Co", account_owner="zed"), NOW)

    assert isinstance(owned, Assignment) and owned.rep_id == "ana"
    assert owned.reasons[0].message == "account Acme is owned by ana"
    assert isinstance(capped, Assignment) and capped.rep_id == "ana"
    assert capped.reasons[0].message.startswith("owner ben not eligible")
    assert {"rep": "ben", "why": "cap_open"} in capped.reasons[0].detail["skipped"]
    assert outsider.reasons[0].message.startswith("owner zed not in team t")


def test_working_hours_skip_reps_whose_day_is_over() -> None:
    ny = Rep("ana", "A", calendar=default_calendar("America/New_York"))
    paris = Rep("luc", "L", calendar=default_calendar("Europe/Paris"))
    team = Team("t", "round_robin", (ny, paris), "t-queue", working_hours=True)

    placement, _ = place(team, TeamState("t"), LeadFacts(), datetime(2026, 3, 2, 17, 0, tzinfo=UTC))

    assert isinstance(placement, Assignment) and placement.rep_id == "ana"  # 12:00 in NY, 18:00 in Paris
    assert placement.reasons[0].detail["skipped"] == [{"rep": "luc", "why": "outside_hours"}]


def test_policies_are_a_registry_keyed_by_the_config_vocabulary() -> None:
    assert set(POLICIES) == set(ROUTING_POLICIES)


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
    return Router.from_config(parse_config(CONFIG, "test.yaml"))


def test_router_refuses_no_teams() -> None:
    config = parse_config(CONFIG, "test.yaml")

    with pytest.raises(ValueError, match="at least one team"):
        Router(RuleSet.from_config(config.qualification), [])
    assert cel_context(LeadData(email="a@b.co"), "api")["source"] == "api"


def test_router_qualifies_with_its_ruleset() -> None:
    router = _router()

    assert router.triage(LeadData(email="a@b.co", employees=80), "api").qualification.outcome == "qualified"
    assert router.triage(LeadData(email="a@b.co"), "api").qualification.outcome == "nurtured"


def test_triage_routes_only_qualified_leads() -> None:
    router = _router()

    triage = router.triage(LeadData(email="a@b.co", employees=80, country="US"), "api")
    assert triage.qualification.outcome == "qualified"
    assert triage.team is not None and triage.team.team.name == "amer"
    assert router.triage(LeadData(email="a@b.co", country="US"), "api").team is None


def test_router_place_puts_the_team_reason_first() -> None:
    router = _router()
    assessment = router.assess(
        "l1", "e1", LeadData(email="a@b.co", employees=80, country="us"), "api", NOW, None
    )

    placement, _ = router.place(
        assessment, TeamState("amer", reps={"ana": RepCounters(last_seq=0)}, seq=1), NOW
    )

    assert isinstance(placement, Assignment)
    assert (placement.team, placement.rep_id, placement.policy) == ("amer", "ben", "round_robin")
    assert [r.code for r in placement.reasons] == ["team_matched", "round_robin"]


def test_router_place_to_fallback_queue_keeps_both_reasons() -> None:
    router = _router()
    assessment = router.assess(
        "l1", "e1", LeadData(email="a@b.co", employees=80, country="FR"), "api", NOW, None
    )

    placement, _ = router.place(assessment, TeamState("emea"), NOW)

    assert isinstance(placement, Queued)
    assert (placement.team, placement.queue, placement.policy) == ("emea", "emea-queue", "round_robin")
    assert [r.code for r in placement.reasons] == ["team_default", "no_eligible_rep"]


def test_teams_from_config_keeps_order_reps_and_match() -> None:
    teams = teams_from_config(parse_config(CONFIG, "test.yaml").routing)

    assert [t.name for t in teams] == ["amer", "emea"]
    assert [r.id for r in teams[0].reps] == ["ben", "ana"]
    assert teams[0].match_source == 'has(lead.country) && lead.country == "US"'
    assert teams[1].match is None
    assert [(r.id, r.active) for r in teams[1].reps] == [("dmitri", False)]
