"""Qualification: ops-authored CEL rules (outcome and route-to) over the lead, its score and account."""

from services.router.qualification.rules import CompiledRule, Qualification, RuleSet, cel_context

__all__ = ["CompiledRule", "Qualification", "RuleSet", "cel_context"]
