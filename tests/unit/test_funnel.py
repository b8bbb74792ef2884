"""Funnel arithmetic and the stage model: "reached" counts, conversions, exits."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.metrics.domain.funnel import build_funnel
from services.metrics.domain.stages import (
    ACTIVITY_STAGES,
    EXITS,
    MAIN_PATH,
    RANK,
    STAGE_MOVING_MODELS,
    furthest_rank,
    source_of,
    stages_for,
)
from shared.events import (
    ACTIVITY_KINDS,
    EVENT_MODELS,
    PUBLISHED_MODELS,
    ActivityRecorded,
    Event,
    LeadAssigned,
    LeadCaptured,
    LeadData,
    LeadDisqualified,
    LeadNurtured,
    LeadQualified,
    LeadQueued,
    QualificationDecided,
)

pytestmark = pytest.mark.unit

no_deadline = settings(deadline=None)
T = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def _reached(funnel_counts: dict[int, int]) -> dict[str, int]:
    return {step.stage: step.reached for step in build_funnel(funnel_counts, {}).steps}


# --- build_funnel -----------------------------------------------------------------------


def test_a_lead_counts_in_every_stage_up_to_its_furthest() -> None:
    assert _reached({RANK["sal"]: 1}) == {
        "captured": 1,
        "reviewed": 1,
        "mql": 1,
        "assigned": 1,
        "sal": 1,
        "sql": 0,
        "won": 0,
    }


def test_reached_is_a_suffix_sum_of_furthest_ranks() -> None:
    # 10 stopped at captured, 5 at mql, 3 at sql, 2 won.
    counts = {RANK["captured"]: 10, RANK["mql"]: 5, RANK["sql"]: 3, RANK["won"]: 2}

    assert _reached(counts) == {
        "captured": 20,
        "reviewed": 10,
        "mql": 10,
        "assigned": 5,
        "sal": 5,
        "sql": 5,
        "won": 2,
    }


@no_deadline
@given(st.dictionaries(st.integers(min_value=0, max_value=len(MAIN_PATH) - 1), st.integers(0, 1000)))
def test_reached_equals_leads_whose_furthest_rank_is_at_least_the_stage(counts: dict[int, int]) -> None:
    funnel = build_funnel(counts, {})

    for rank, step in enumerate(funnel.steps):
        assert step.reached == sum(n for r, n in counts.items() if r >= rank)
    assert funnel.total == sum(counts.values())
    assert [s.reached for s in funnel.steps] == sorted((s.reached for s in funnel.steps), reverse=True)


def test_steps_follow_the_main_path_with_labels() -> None:
    funnel = build_funnel({}, {})

    assert tuple(s.stage for s in funnel.steps) == MAIN_PATH
    assert funnel.steps[2].label == "MQL"
    assert funnel.total == 0


def test_conversion_is_reached_next_over_reached_previous_rounded_to_4_places() -> None:
    # reached: captured 3, reviewed 2, mql 2, assigned 1, sal..won 0
    funnel = build_funnel({RANK["captured"]: 1, RANK["mql"]: 1, RANK["assigned"]: 1}, {})
    by_stage = {s.stage: s for s in funnel.steps}

    assert by_stage["reviewed"].conversion_from_previous == 0.6667
    assert by_stage["mql"].conversion_from_previous == 1.0
    assert by_stage["assigned"].conversion_from_previous == 0.5
    assert by_stage["sal"].conversion_from_previous == 0.0
    assert by_stage["assigned"].conversion_from_start == 0.3333


def test_first_step_has_no_conversion() -> None:
    first = build_funnel({RANK["won"]: 4}, {}).steps[0]

    assert first.stage == "captured"
    assert first.conversion_from_previous is None
    assert first.conversion_from_start is None


def test_conversion_is_none_when_the_previous_stage_is_zero() -> None:
    by_stage = {s.stage: s for s in build_funnel({RANK["reviewed"]: 2}, {}).steps}

    assert by_stage["mql"].conversion_from_previous == 0.0  # 0 of 2
    assert by_stage["assigned"].conversion_from_previous is None  # 0 of 0
    assert by_stage["won"].conversion_from_previous is None
    assert by_stage["won"].conversion_from_start == 0.0


def test_empty_funnel_has_no_conversions_at_all() -> None:
    funnel = build_funnel({}, {})

    assert all(s.conversion_from_previous is None for s in funnel.steps)
    assert all(s.conversion_from_start is None for s in funnel.steps)


def test_exits_pass_through_with_zeros_for_missing() -> None:
    funnel = build_funnel({}, {"disqualified": 7, "lost": 2})

    assert funnel.exits == {"disqualified": 7, "nurturing": 0, "rejected": 0, "lost": 2}
    assert tuple(funnel.exits) == EXITS


def test_exits_ignore_stages_that_are_not_exits() -> None:
    assert "bogus" not in build_funnel({}, {"bogus": 3}).exits


# --- stages_for ---------------------------------------------------------------------------


def _decided(model: type[QualificationDecided]) -> QualificationDecided:
    return model(decision_id="d", source="api", ruleset_version="v1", rule=None, reasons=[], decided_at=T)


LEAD = LeadCaptured(lead=LeadData(email="a@b.co"), source="web", received_at=T)
ASSIGNED = LeadAssigned(
    decision_id="d", source="web", rep_id="ana", team="t", policy="round_robin", reasons=[], decided_at=T
)
QUEUED = LeadQueued(
    decision_id="d", source="web", team="t", queue="q", policy="round_robin", reasons=[], decided_at=T
)


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        (LEAD, ("captured",)),
        (_decided(LeadQualified), ("reviewed", "mql")),
        (_decided(LeadDisqualified), ("reviewed", "disqualified")),
        (_decided(LeadNurtured), ("reviewed", "nurturing")),
        (ASSIGNED, ("assigned",)),
        (QUEUED, ("queued",)),
        (ActivityRecorded(kind="won", value=5000), ("won",)),
        (ActivityRecorded(kind="opportunity_created"), ("sql",)),
        (ActivityRecorded(kind="accepted"), ("sal",)),
        (ActivityRecorded(kind="lost"), ("lost",)),
        (ActivityRecorded(kind="first_touch"), ()),
        (ActivityRecorded(kind="stage_changed", stage="Demo"), ()),
    ],
)
def test_stages_for(event: Event, expected: tuple[str, ...]) -> None:
    assert stages_for(event) == expected


def test_a_queued_lead_is_not_assigned() -> None:
    assert "assigned" not in stages_for(QUEUED)
    assert (
        furthest_rank([*stages_for(LEAD), *stages_for(_decided(LeadQualified)), *stages_for(QUEUED)])
        == (RANK["mql"])
    )


def test_every_activity_kind_has_its_stages_listed() -> None:
    assert set(ACTIVITY_STAGES) == set(ACTIVITY_KINDS)


def test_every_event_metrics_maps_is_a_published_model() -> None:
    """The stage map is keyed by model classes, and every one of them is in the published contract."""
    assert set(STAGE_MOVING_MODELS) <= set(PUBLISHED_MODELS)
    assert all(EVENT_MODELS[m.event_type] is m for m in STAGE_MOVING_MODELS)


def test_source_is_read_from_the_typed_payload() -> None:
    assert (source_of(LEAD), source_of(ASSIGNED), source_of(_decided(LeadQualified))) == ("web", "web", "api")
    assert source_of(ActivityRecorded(kind="won")) is None


# --- furthest_rank --------------------------------------------------------------------------


def test_disqualified_lead_stops_at_reviewed() -> None:
    stages = [*stages_for(LEAD), *stages_for(_decided(LeadDisqualified))]

    rank = furthest_rank(stages)

    assert stages == ["captured", "reviewed", "disqualified"]
    assert rank == RANK["reviewed"]
    reached = _reached({rank: 1})
    assert [stage for stage, n in reached.items() if n] == ["captured", "reviewed"]


def test_furthest_rank_ignores_order_and_exits() -> None:
    assert furthest_rank(["sal", "captured", "rejected", "mql"]) == RANK["sal"]


def test_furthest_rank_is_none_without_main_path_stages() -> None:
    assert furthest_rank([]) is None
    assert furthest_rank(("nurturing", "lost")) is None
