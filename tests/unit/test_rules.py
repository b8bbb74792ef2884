"""Qualification rules: ordered CEL, first match wins, every evaluated rule explained."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.router.domain.rules import RuleSet, cel_context
from shared.config import QualificationConfig, RuleConfig, load_config
from shared.events import LeadData

pytestmark = pytest.mark.unit


def _ruleset(*rules: tuple[str, str, str], default: str = "nurtured") -> RuleSet:
    config = QualificationConfig(
        version="test-1",
        rules=[RuleConfig(name=name, when=when, outcome=outcome) for name, when, outcome in rules],
        default=default,
    )
    return RuleSet.from_config(config)


BIG = ("big", "has(lead.employees) && lead.employees >= 50", "qualified")
GMAIL = ("gmail", 'lead.email.endsWith("@gmail.com")', "disqualified")


def test_first_matching_rule_wins() -> None:
    lead = LeadData(email="boss@gmail.com", employees=500)

    result = _ruleset(GMAIL, BIG).evaluate(lead, "api")

    assert (result.outcome, result.rule) == ("disqualified", "gmail")


def test_rule_order_decides_between_two_matching_rules() -> None:
    lead = LeadData(email="boss@gmail.com", employees=500)

    result = _ruleset(BIG, GMAIL).evaluate(lead, "api")

    assert (result.outcome, result.rule) == ("qualified", "big")
    assert [r.code for r in result.reasons] == ["rule_matched"]


def test_rules_after_the_match_are_not_evaluated() -> None:
    lead = LeadData(email="boss@acme.io", employees=500)

    result = _ruleset(GMAIL, BIG, ("never", "lead.employees > 10", "disqualified")).evaluate(lead, "api")

    assert [r.detail["rule"] for r in result.reasons] == ["gmail", "big"]


def test_default_outcome_when_nothing_matches() -> None:
    lead = LeadData(email="someone@acme.io", employees=3)

    result = _ruleset(GMAIL, BIG, default="disqualified").evaluate(lead, "api")

    assert result.outcome == "disqualified"
    assert result.rule is None
    last = result.reasons[-1]
    assert last.code == "default_outcome"
    assert last.detail == {"ruleset_version": "test-1"}
    assert "disqualified" in last.message


def test_each_evaluated_rule_leaves_a_reason_in_order() -> None:
    rules = (
        ("one", "lead.email == 'x@y.zz'", "qualified"),
        ("two", "false", "qualified"),
        ("three", "true", "nurtured"),
    )

    result = _ruleset(*rules).evaluate(LeadData(email="a@b.co"), "api")

    assert [(r.code, r.detail["rule"]) for r in result.reasons] == [
        ("rule_not_matched", "one"),
        ("rule_not_matched", "two"),
        ("rule_matched", "three"),
    ]
    assert result.reasons[-1].detail["when"] == "true"
    assert (result.outcome, result.rule) == ("nurtured", "three")


def test_no_match_lists_every_rule_then_the_default() -> None:
    result = _ruleset(GMAIL, BIG).evaluate(LeadData(email="a@acme.io"), "api")

    assert [r.code for r in result.reasons] == ["rule_not_matched", "rule_not_matched", "default_outcome"]
    assert result.outcome == "nurtured"


def test_rule_that_errors_is_recorded_and_evaluation_continues() -> None:
    unguarded = ("unguarded", "lead.employees > 10", "qualified")
    fallback = ("acme", 'lead.email.endsWith("@acme.io")', "disqualified")

    result = _ruleset(unguarded, fallback).evaluate(LeadData(email="a@acme.io"), "api")

    error, matched = result.reasons
    assert error.code == "rule_error"
    assert error.detail["rule"] == "unguarded"
    assert "employees" in error.detail["error"]
    assert "unguarded" in error.message
    assert matched.code == "rule_matched"
    assert (result.outcome, result.rule) == ("disqualified", "acme")


def test_erroring_rule_does_not_match_and_default_still_applies() -> None:
    result = _ruleset(("unguarded", "lead.employees > 10", "qualified")).evaluate(
        LeadData(email="a@b.co"), "api"
    )

    assert [r.code for r in result.reasons] == ["rule_error", "default_outcome"]
    assert result.outcome == "nurtured"


def test_non_boolean_result_does_not_count_as_a_match() -> None:
    result = _ruleset(("truthy", "lead.email", "qualified")).evaluate(LeadData(email="a@b.co"), "api")

    assert result.outcome == "nurtured"
    assert result.reasons[0].code == "rule_not_matched"


@pytest.mark.parametrize(
    ("lead", "expected"),
    [
        (LeadData(email="a@b.co"), False),
        (LeadData(email="a@b.co", employees=0), True),
        (LeadData(email="a@b.co", employees=20), True),
    ],
)
def test_has_is_false_only_for_absent_fields(lead: LeadData, expected: bool) -> None:
    result = _ruleset(("given", "has(lead.employees)", "qualified")).evaluate(lead, "api")

    assert (result.outcome == "qualified") is expected


def test_cel_context_leaves_out_absent_fields() -> None:
    context = cel_context(LeadData(email="a@b.co", country="us"), "typeform")

    assert context["source"] == "typeform"
    assert context["lead"]["country"] == "US"
    assert "employees" not in context["lead"]
    assert "company" not in context["lead"]


@pytest.mark.parametrize(("source", "expected"), [("partner", "qualified"), ("api", "nurtured")])
def test_source_is_visible_to_expressions(source: str, expected: str) -> None:
    rules = _ruleset(("partner-leads", 'source == "partner"', "qualified"))

    assert rules.evaluate(LeadData(email="a@b.co"), source).outcome == expected


def test_custom_fields_are_visible_to_expressions() -> None:
    rule = ("demo", 'has(lead.custom.demo) && lead.custom.demo == "yes"', "qualified")
    lead = LeadData(email="a@b.co", custom={"demo": "yes"})

    assert _ruleset(rule).evaluate(lead, "api").outcome == "qualified"
    assert _ruleset(rule).evaluate(LeadData(email="a@b.co"), "api").outcome == "nurtured"


def test_example_ruleset_on_typical_leads() -> None:
    config = load_config(Path(__file__).resolve().parents[2] / "examples" / "leadrelay.yaml")
    rules = RuleSet.from_config(config.qualification)

    assert rules.evaluate(LeadData(email="x@gmail.com", employees=900, country="US"), "api").rule == (
        "free-email-domain"
    )
    assert (
        rules.evaluate(LeadData(email="x@corp.com", employees=60, country="de"), "api").outcome == "qualified"
    )
    assert (
        rules.evaluate(LeadData(email="x@corp.com", employees=60, country="JP"), "api").outcome == "nurtured"
    )
    assert rules.evaluate(LeadData(email="x@corp.com"), "api").outcome == "nurtured"
    assert rules.version == "2026-11-22.1"


# --- priorities, route_to, run-time errors ---------------------------------------------------------


def _config_rules(*rules: dict[str, object]) -> RuleSet:
    return RuleSet.from_config(
        QualificationConfig(version="p-1", rules=[RuleConfig.model_validate(r) for r in rules])
    )


def test_priority_beats_file_order_and_route_to_rules_still_run_after_the_outcome() -> None:
    rules = _config_rules(
        {"name": "big", "when": "lead.employees >= 50", "outcome": "qualified"},
        {
            "name": "gmail",
            "when": 'lead.email.endsWith("@gmail.com")',
            "outcome": "disqualified",
            "priority": 10,
        },
        {"name": "to-enterprise", "when": "lead.employees >= 1000", "route_to": "enterprise"},
    )

    big = rules.evaluate(LeadData(email="x@acme.io", employees=5000), "api")
    gmail = rules.evaluate(LeadData(email="x@gmail.com", employees=5000), "api")

    assert (big.outcome, big.rule, big.route_to, big.route_rule) == (
        "qualified",
        "big",
        "enterprise",
        "to-enterprise",
    )
    assert (gmail.outcome, gmail.rule) == ("disqualified", "gmail")


def test_a_rule_failing_at_run_time_is_an_error_in_the_decision_and_evaluation_goes_on() -> None:
    rules = _config_rules(
        {"name": "typed", "when": "lead.custom.budget > 1000", "outcome": "qualified"},
        {"name": "fallback", "when": "true", "outcome": "nurtured"},
    )

    result = rules.evaluate(LeadData(email="x@acme.io", custom={"budget": "lots"}), "api")

    assert (result.outcome, result.rule) == ("nurtured", "fallback")
    assert [e["rule"] for e in result.errors] == ["typed"]
    assert result.reasons[0].code == "rule_error"


def test_a_rule_needs_an_outcome_or_a_route() -> None:
    with pytest.raises(ValueError, match="needs an outcome"):
        RuleConfig(name="nothing", when="true")


@pytest.mark.parametrize("template", ["bant", "meddic", "champ"])
def test_templates_load(template: str) -> None:
    config = load_config(Path(__file__).resolve().parents[2] / "examples" / "rules" / f"{template}.yaml")

    assert config.qualification.version == f"{template}-1"
