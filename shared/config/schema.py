"""What the config file may say. Expressions are CEL, compiled here so a bad rule is refused at start."""

from __future__ import annotations

from typing import Literal, get_args

import cel
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from shared.events import QualificationOutcome

# Routing policies the router implements (its registry is keyed by exactly these names).
RoutingPolicyName = Literal["round_robin"]
ROUTING_POLICIES: tuple[str, ...] = get_args(RoutingPolicyName)
NAME_PATTERN = r"^[a-z0-9][a-z0-9_.-]*$"


def compile_cel(expression: str) -> str:
    try:
        cel.compile(expression)
    except (ValueError, RuntimeError) as exc:
        raise ValueError(f"not a valid CEL expression: {exc}") from exc
    return expression


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SourceConfig(_Strict):
    kind: Literal["canonical"] = "canonical"
    description: str | None = None


class RuleConfig(_Strict):
    name: str = Field(pattern=NAME_PATTERN)
    when: str = Field(min_length=1, description="CEL over `lead` (the canonical lead) and `source`")
    outcome: QualificationOutcome
    description: str | None = None

    _check_when = field_validator("when")(classmethod(lambda cls, v: compile_cel(v)))


class QualificationConfig(_Strict):
    version: str = Field(min_length=1, description="ruleset version, recorded with every decision")
    rules: list[RuleConfig] = Field(min_length=1)
    default: QualificationOutcome = "nurtured"

    @model_validator(mode="after")
    def _unique_names(self) -> QualificationConfig:
        _require_unique([r.name for r in self.rules], "rule name")
        return self


class RepConfig(_Strict):
    id: str = Field(pattern=NAME_PATTERN)
    name: str
    active: bool = True


class TeamConfig(_Strict):
    name: str = Field(pattern=NAME_PATTERN)
    timezone: str = "UTC"
    policy: RoutingPolicyName = "round_robin"
    match: str | None = Field(
        default=None, description="CEL; the first team whose match is true routes the lead"
    )
    fallback_queue: str = Field(
        default="unassigned", description="where leads wait (lead.queued) when no rep is eligible"
    )
    reps: list[RepConfig] = Field(min_length=1)

    _check_match = field_validator("match")(classmethod(lambda cls, v: v if v is None else compile_cel(v)))

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}; use an IANA name like Europe/Paris") from exc
        return value


class RoutingConfig(_Strict):
    teams: list[TeamConfig] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_ids(self) -> RoutingConfig:
        _require_unique([t.name for t in self.teams], "team name")
        _require_unique([r.id for t in self.teams for r in t.reps], "rep id")
        return self


class LeadRelayConfig(_Strict):
    version: Literal[1] = 1
    sources: dict[str, SourceConfig] = Field(default_factory=lambda: {"api": SourceConfig()})
    qualification: QualificationConfig
    routing: RoutingConfig


def _require_unique(values: list[str], what: str) -> None:
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise ValueError(f"{what} {value!r} appears twice; each {what} must be unique")
        seen.add(value)
