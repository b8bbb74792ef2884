"""Moved to `services.router.qualification`; kept so existing imports keep working."""

from services.router.qualification.rules import CompiledRule, Qualification, RuleSet, cel_context

__all__ = ["CompiledRule", "Qualification", "RuleSet", "cel_context"]
