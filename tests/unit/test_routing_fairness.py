"""Fairness of every routing policy, as properties over many leads (hypothesis).

Stated tolerance: under `weighted`, after any number N of leads each eligible rep's count is within
one lead of its exact share N * weight / total (smooth weighted round robin); under the other
policies, over k * n leads each of n eligible reps gets exactly k.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import UTC, date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.router.routing import Assignment, LeadFacts, Queued, Rep, Team, TeamState, place
from shared.config.schema import ROUTING_POLICIES

pytestmark = pytest.mark.unit
no_deadline = settings(deadline=None, max_examples=60)
NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
rep_ids = st.text(alphabet="abcdefghij0123456789", min_size=1, max_size=5)
policies = st.sampled_from(ROUTING_POLICIES)


@st.composite
def rosters(draw: st.DrawFn, min_weight: int = 0) -> tuple[Rep, ...]:
    ids = draw(st.lists(rep_ids, min_size=1, max_size=7, unique=True))
    return tuple(
        Rep(
            rep_id,
            rep_id.upper(),
            active=draw(st.booleans()),
            weight=draw(st.integers(min_value=min_weight, max_value=5)),
            out_of_office=frozenset({NOW.date()}) if draw(st.integers(0, 4)) == 0 else frozenset(),
        )
        for rep_id in ids
    )


def _team(reps: tuple[Rep, ...], policy: str = "weighted") -> Team:
    return Team("t", policy, reps, "t-queue")


def _run(team: Team, count: int, lead: LeadFacts | None = None) -> tuple[list[str | None], TeamState]:
    state = TeamState("t")
    picked: list[str | None] = []
    for _ in range(count):
        placement, state = place(team, state, lead or LeadFacts(), NOW)
        picked.append(placement.rep_id if isinstance(placement, Assignment) else None)
    return picked, state


def _eligible(reps: tuple[Rep, ...]) -> list[Rep]:
    return [r for r in reps if r.active and r.weight > 0 and NOW.date() not in r.out_of_office]


@no_deadline
@given(reps=rosters(), count=st.integers(min_value=1, max_value=120))
def test_weighted_share_stays_within_one_lead_of_the_weight_at_every_step(
    reps: tuple[Rep, ...], count: int
) -> None:
    eligible = _eligible(reps)
    total = sum(r.weight for r in eligible)
    picked, _ = _run(_team(reps), count)
    if not eligible:
        assert picked == [None] * count  # nobody eligible: fallback queue, never a crash
        return
    seen: Counter[str | None] = Counter()
    for n, rep_id in enumerate(picked, start=1):
        seen[rep_id] += 1
        for rep in eligible:
            assert abs(seen[rep.id] - n * rep.weight / total) < 1 + 1e-9, (rep.id, n, dict(seen))


@no_deadline
@given(data=st.data(), reps=rosters(), policy=policies, count=st.integers(min_value=1, max_value=40))
def test_list_order_favours_nobody(
    data: st.DataObject, reps: tuple[Rep, ...], policy: str, count: int
) -> None:
    shuffled = tuple(data.draw(st.permutations(reps)))
    lead = LeadFacts(country="US", employees=100, account_owner=reps[0].id, account="acme")

    assert _run(_team(shuffled, policy), count, lead)[0] == _run(_team(reps, policy), count, lead)[0]


@no_deadline
@given(reps=rosters(), policy=policies, count=st.integers(min_value=1, max_value=60))
def test_weight_zero_inactive_and_absent_reps_are_never_chosen(
    reps: tuple[Rep, ...], policy: str, count: int
) -> None:
    never = {r.id for r in reps} - {r.id for r in _eligible(reps)}
    lead = LeadFacts(account_owner=reps[0].id, account="acme")
    picked, _ = _run(_team(reps, policy), count, lead)

    assert never.isdisjoint(picked)


@no_deadline
@given(ids=st.lists(rep_ids, min_size=1, max_size=6, unique=True), policy=policies)
def test_all_weights_zero_goes_to_the_fallback_queue(ids: list[str], policy: str) -> None:
    team = _team(tuple(Rep(i, i, weight=0) for i in ids), policy)

    placement, state = place(team, TeamState("t"), LeadFacts(), NOW)

    assert isinstance(placement, Queued) and placement.queue == "t-queue"
    (reason,) = placement.reasons
    assert reason.code == "no_eligible_rep"
    assert reason.detail["skipped"] == [{"rep": i, "why": "weight_zero"} for i in sorted(ids)]
    assert state == TeamState("t")  # nothing advanced


@no_deadline
@given(
    reps=rosters(min_weight=1),
    policy=st.sampled_from(["round_robin", "territory", "account_owner"]),
    rounds=st.integers(min_value=1, max_value=4),
)
def test_turn_taking_policies_give_each_eligible_rep_exactly_k_of_k_times_n(
    reps: tuple[Rep, ...], policy: str, rounds: int
) -> None:
    eligible = {r.id for r in _eligible(reps)}
    picked, _ = _run(_team(reps, policy), rounds * max(1, len(eligible)))
    if not eligible:
        assert set(picked) == {None}
        return
    assert Counter(picked) == dict.fromkeys(eligible, rounds)


@no_deadline
@given(
    reps=rosters(min_weight=1),
    policy=policies,
    caps=st.lists(st.integers(min_value=0, max_value=4), min_size=7, max_size=7),
    kind=st.sampled_from(["max_open", "max_per_day", "max_per_week"]),
    count=st.integers(min_value=1, max_value=40),
)
def test_caps_are_never_exceeded_and_then_the_queue_takes_over(
    reps: tuple[Rep, ...], policy: str, caps: list[int], kind: str, count: int
) -> None:
    capped = tuple(replace(r, **{kind: cap}) for r, cap in zip(reps, caps, strict=False))
    picked, state = _run(_team(capped, policy), count)
    counts = Counter(p for p in picked if p is not None)
    for rep in capped:
        assert counts[rep.id] <= getattr(rep, kind)
        assert state.counters(rep.id).open_leads == counts[rep.id]
    room = sum(getattr(r, kind) for r in _eligible(capped))
    assert sum(counts.values()) == min(count, room)  # nobody turned away while someone had room


def test_day_cap_resets_on_the_reps_next_local_day() -> None:
    team = _team((Rep("ana", "Ana", max_per_day=1),), "round_robin")
    first, state = place(team, TeamState("t"), LeadFacts(), NOW)
    again, _ = place(team, state, LeadFacts(), NOW)
    tomorrow, _ = place(team, state, LeadFacts(), datetime(2026, 3, 3, 9, tzinfo=UTC))

    assert isinstance(first, Assignment) and isinstance(tomorrow, Assignment)
    assert isinstance(again, Queued)
    assert again.reasons[0].detail["skipped"] == [{"rep": "ana", "why": "cap_day"}]


def test_out_of_office_date_is_the_reps_own_local_date() -> None:
    from services.router.sla.setup import default_calendar

    tokyo = Rep(
        "kei", "Kei", out_of_office=frozenset({date(2026, 3, 3)}), calendar=default_calendar("Asia/Tokyo")
    )
    team = _team((tokyo,), "round_robin")

    placement, _ = place(team, TeamState("t"), LeadFacts(), NOW)  # 15:00 UTC = Mar 3, 00:00 in Tokyo

    assert isinstance(placement, Queued)
    assert placement.reasons[0].detail["skipped"] == [{"rep": "kei", "why": "out_of_office"}]
