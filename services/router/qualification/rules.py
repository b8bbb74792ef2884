"""Qualification rules: CEL, by priority then file order, every evaluated rule explained.

A rule decides an outcome (qualified / disqualified / nurtured), a team (`route_to`), or both.
Evaluation stops once the outcome is decided and no route rule is left to decide the team. A rule
that cannot be evaluated for a lead (a field absent, or of another type) is recorded as an error
and evaluation goes on: one odd lead never blocks the queue or reaches the dead-letter topic.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cel

from shared.config import QualificationConfig
from shared.events import LeadData, QualificationOutcome, Reason

_EVAL_ERRORS = (ValueError, TypeError, KeyError, RuntimeError)


@dataclass(frozen=True)
class CompiledRule:
    name: str
    expression: str
    outcome: QualificationOutcome | None
    program: Any
    route_to: str | None = None
    priority: int = 0


@dataclass(frozen=True)
class Qualification:
    outcome: QualificationOutcome
    rule: str | None
    reasons: tuple[Reason, ...]
    route_to: str | None = None
    route_rule: str | None = None

    @property
    def errors(self) -> list[dict[str, Any]]:
        return [r.detail for r in self.reasons if r.code == "rule_error"]


def cel_context(lead: LeadData, source: str, **extra: Any) -> dict[str, Any]:
    """What expressions see. Absent fields are left out so `has(lead.x)` means "x was given"."""
    return {"lead": lead.model_dump(mode="json", exclude_none=True), "source": source, **extra}


class RuleSet:
    def __init__(self, version: str, rules: list[CompiledRule], default: QualificationOutcome) -> None:
        self.version = version
        # Stable sort: equal priorities keep the file's order.
        self.rules = sorted(rules, key=lambda r: -r.priority)
        self.default = default

    @classmethod
    def from_config(cls, config: QualificationConfig) -> RuleSet:
        return cls(
            config.version,
            [
                CompiledRule(r.name, r.when, r.outcome, cel.compile(r.when), r.route_to, r.priority)
                for r in config.rules
            ],
            config.default,
        )

    def evaluate(self, lead: LeadData, source: str) -> Qualification:
        return self.evaluate_context(cel_context(lead, source))

    def evaluate_context(self, context: Any) -> Qualification:
        """Evaluate against a context already built by `cel_context` (built once per lead)."""
        reasons: list[Reason] = []
        outcome: tuple[QualificationOutcome, str] | None = None
        route: tuple[str, str] | None = None
        for index, rule in enumerate(self.rules):
            if outcome is not None and (route is not None or not self._routes_after(index)):
                break
            needed = (rule.outcome is not None and outcome is None) or (
                rule.route_to is not None and route is None
            )
            if not needed:
                continue
            try:
                matched = rule.program.execute(context)
            except _EVAL_ERRORS as exc:
                reasons.append(
                    Reason(
                        code="rule_error",
                        message=f"rule {rule.name} could not be evaluated",
                        detail={"rule": rule.name, "error": str(exc)[:300]},
                    )
                )
                continue
            if matched is not True:
                reasons.append(
                    Reason(
                        code="rule_not_matched",
                        message=f"rule {rule.name} did not match",
                        detail={"rule": rule.name},
                    )
                )
                continue
            effects: list[str] = []
            if rule.outcome is not None and outcome is None:
                outcome = (rule.outcome, rule.name)
                effects.append(rule.outcome)
            if rule.route_to is not None and route is None:
                route = (rule.route_to, rule.name)
                effects.append(f"route to {rule.route_to}")
            reasons.append(
                Reason(
                    code="rule_matched",
                    message=f"rule {rule.name} matched: {', '.join(effects)}",
                    detail={"rule": rule.name, "when": rule.expression, "priority": rule.priority},
                )
            )
        if outcome is None:
            reasons.append(
                Reason(
                    code="default_outcome",
                    message=f"no rule matched: default {self.default}",
                    detail={"ruleset_version": self.version},
                )
            )
            outcome = (self.default, "")
        return Qualification(
            outcome[0],
            outcome[1] or None,
            tuple(reasons),
            route[0] if route else None,
            route[1] if route else None,
        )

    def _routes_after(self, index: int) -> bool:
        return any(r.route_to is not None for r in self.rules[index:])
