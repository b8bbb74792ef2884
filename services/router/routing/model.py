"""Routing vocabulary: reps, teams, the lead facts policies look at, and the two placements."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from services.router.sla.calendar import Calendar
from shared.events import Reason


@dataclass(frozen=True)
class Territory:
    """Every given criterion must hold; an empty territory covers everything."""

    countries: frozenset[str] = frozenset()
    industries: frozenset[str] = frozenset()  # lower-case
    min_employees: int | None = None
    max_employees: int | None = None

    def covers(self, lead: LeadFacts) -> bool:
        if self.countries and (lead.country or "").upper() not in self.countries:
            return False
        if self.industries and (lead.industry or "").lower() not in self.industries:
            return False
        if self.min_employees is not None and (lead.employees is None or lead.employees < self.min_employees):
            return False
        return not (
            self.max_employees is not None and (lead.employees is None or lead.employees > self.max_employees)
        )


@dataclass(frozen=True)
class Rep:
    id: str
    name: str
    active: bool = True
    weight: int = 1
    max_open: int | None = None
    max_per_day: int | None = None
    max_per_week: int | None = None
    out_of_office: frozenset[date] = frozenset()
    territory: Territory | None = None
    calendar: Calendar | None = None  # working hours and the zone of "today"; None = UTC, always on


@dataclass(frozen=True)
class Team:
    name: str
    policy: str
    reps: tuple[Rep, ...]
    fallback_queue: str
    match: Any | None = None  # compiled CEL program
    match_source: str | None = None
    working_hours: bool = False


@dataclass(frozen=True)
class LeadFacts:
    """What policies may look at: segment fields and the matched account's owner."""

    country: str | None = None
    employees: int | None = None
    industry: str | None = None
    account: str | None = None
    account_owner: str | None = None


@dataclass(frozen=True)
class Assignment:
    """A rep owns the lead now."""

    team: str
    rep_id: str
    policy: str
    reasons: tuple[Reason, ...]


@dataclass(frozen=True)
class Queued:
    """Nobody was eligible: the lead waits in the team's queue, with why."""

    team: str
    queue: str
    policy: str
    reasons: tuple[Reason, ...]


Placement = Assignment | Queued
