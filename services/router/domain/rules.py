"""Qualification: ordered CEL rules, first match wins, every step explained.

A rule that cannot be evaluated for a lead (a field of the wrong type, say) does not
match, and the decision says so: one odd lead never blocks the queue.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cel

from shared.config import QualificationConfig
from shared.events import LeadData, QualificationOutcome, Reason


@dataclass(frozen=True)
class CompiledRule:
    name: str
    expression: str
    outcome: QualificationOutcome
    program: Any


@dataclass(frozen=True)
class Qualification:
    outcome: QualificationOutcome
    rule: str | None
    reasons: tuple[Reason, ...]


def cel_context(lead: LeadData, source: str) -> dict[str, Any]:
    """What expressions see. Absent fields are left out so `has(lead.x)` means "x was given"."""
    return {"lead": lead.model_dump(mode="json", exclude_none=True), "source": source}


class RuleSet:
    def __init__(self, version: str, rules: list[CompiledRule], default: QualificationOutcome) -> None:
        self.version = version
        self.rules = rules
        self.default = default

    @classmethod
    def from_config(cls, config: QualificationConfig) -> RuleSet:
        return cls(
            config.version,
            [CompiledRule(r.name, r.when, r.outcome, cel.compile(r.when)) for r in config.rules],
            config.default,
        )

    def evaluate(self, lead: LeadData, source: str) -> Qualification:
        return self.evaluate_context(cel_context(lead, source))

    def evaluate_context(self, context: dict[str, Any]) -> Qualification:
        """Evaluate against a context already built by `cel_context` (built once per lead)."""
        reasons: list[Reason] = []
        for rule in self.rules:
            try:
                matched = rule.program.execute(context)
            except (ValueError, TypeError, KeyError, RuntimeError) as exc:
                reasons.append(
                    Reason(
                        code="rule_error",
                        message=f"rule {rule.name} could not be evaluated",
                        detail={"rule": rule.name, "error": str(exc)[:300]},
                    )
                )
                continue
            if matched is True:
                reasons.append(
                    Reason(
                        code="rule_matched",
                        message=f"rule {rule.name} matched: {rule.outcome}",
                        detail={"rule": rule.name, "when": rule.expression},
                    )
                )
                return Qualification(rule.outcome, rule.name, tuple(reasons))
            reasons.append(
                Reason(
                    code="rule_not_matched",
                    message=f"rule {rule.name} did not match",
                    detail={"rule": rule.name},
                )
            )
        reasons.append(
            Reason(
                code="default_outcome",
                message=f"no rule matched: default {self.default}",
                detail={"ruleset_version": self.version},
            )
        )
        return Qualification(self.default, None, tuple(reasons))
