"""One routing decision for one captured lead: qualify, choose a team, then place it.

Split in steps because the placement depends on the team's rotation position, which the
handler reads (and locks) from storage once the team is known. The finished `Decision`
knows its own records and events: the handler only loads state and writes results.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.router.domain.routing import Assignment, Placement, Queued, Team, choose_team, place
from services.router.domain.rules import Qualification, RuleSet, cel_context
from shared.events import (
    CloudEvent,
    Event,
    LeadAssigned,
    LeadData,
    LeadDisqualified,
    LeadNurtured,
    LeadQualified,
    LeadQueued,
    QualificationDecided,
    Reason,
    stable_id,
)

EVENT_SOURCE = "leadrelay/router"
_QUALIFICATION_EVENTS: dict[str, type[QualificationDecided]] = {
    "qualified": LeadQualified,
    "disqualified": LeadDisqualified,
    "nurtured": LeadNurtured,
}


@dataclass(frozen=True)
class TeamChoice:
    team: Team
    reason: Reason


@dataclass(frozen=True)
class Triage:
    """The qualification and, for a qualified lead, the team that will route it."""

    qualification: Qualification
    team: TeamChoice | None


@dataclass(frozen=True)
class DecisionRecord:
    """One stored line of a lead's decision history (what the timeline shows)."""

    decision_id: str
    lead_id: str
    trigger_event_id: str
    kind: str
    outcome: str
    reasons: list[dict[str, Any]]
    event_time: datetime
    decided_at: datetime
    rule: str | None = None
    ruleset_version: str | None = None
    team: str | None = None
    rep_id: str | None = None
    policy: str | None = None


@dataclass(frozen=True)
class Decision:
    """Everything decided about one captured lead, and what it produces."""

    lead_id: str
    trigger_event_id: str
    event_time: datetime
    source: str
    ruleset_version: str
    qualification: Qualification
    placement: Placement | None
    decided_at: datetime

    def _id(self, what: str) -> str:
        return stable_id(self.trigger_event_id, what)

    def _record(self, kind: str, outcome: str, reasons: tuple[Reason, ...], **extra: Any) -> DecisionRecord:
        return DecisionRecord(
            decision_id=self._id(kind),
            lead_id=self.lead_id,
            trigger_event_id=self.trigger_event_id,
            kind=kind,
            outcome=outcome,
            reasons=[r.model_dump(mode="json") for r in reasons],
            event_time=self.event_time,
            decided_at=self.decided_at,
            **extra,
        )

    def records(self) -> list[DecisionRecord]:
        q = self.qualification
        records = [
            self._record(
                "qualification", q.outcome, q.reasons, rule=q.rule, ruleset_version=self.ruleset_version
            )
        ]
        p = self.placement
        if isinstance(p, Assignment):
            records.append(
                self._record(
                    "assignment", "assigned", p.reasons, team=p.team, rep_id=p.rep_id, policy=p.policy
                )
            )
        elif isinstance(p, Queued):
            records.append(self._record("assignment", "queued", p.reasons, team=p.team, policy=p.policy))
        return records

    def payloads(self) -> list[Event]:
        q = self.qualification
        common = {"source": self.source, "decided_at": self.decided_at}
        payloads: list[Event] = [
            _QUALIFICATION_EVENTS[q.outcome](
                decision_id=self._id("qualification"),
                ruleset_version=self.ruleset_version,
                rule=q.rule,
                reasons=list(q.reasons),
                **common,
            )
        ]
        p = self.placement
        if isinstance(p, Assignment):
            payloads.append(
                LeadAssigned(
                    decision_id=self._id("assignment"),
                    rep_id=p.rep_id,
                    team=p.team,
                    policy=p.policy,
                    reasons=list(p.reasons),
                    **common,
                )
            )
        elif isinstance(p, Queued):
            payloads.append(
                LeadQueued(
                    decision_id=self._id("assignment"),
                    team=p.team,
                    queue=p.queue,
                    policy=p.policy,
                    reasons=list(p.reasons),
                    **common,
                )
            )
        return payloads

    def events(self) -> list[CloudEvent]:
        # Decisions happen "at" the lead's event time, so imported history replays into the same funnel.
        return [
            CloudEvent.wrap(
                payload,
                subject=self.lead_id,
                source=EVENT_SOURCE,
                time=self.event_time,
                event_id=self._id(payload.event_type),
            )
            for payload in self.payloads()
        ]


class Router:
    def __init__(self, rules: RuleSet, teams: list[Team]) -> None:
        if not teams:
            raise ValueError("routing needs at least one team")
        self.rules = rules
        self.teams = teams

    def qualify(self, lead: LeadData, source: str) -> Qualification:
        return self.rules.evaluate(lead, source)

    def choose_team(self, lead: LeadData, source: str) -> TeamChoice:
        return self._choose_team(cel_context(lead, source))

    def triage(self, lead: LeadData, source: str) -> Triage:
        """Qualify, then choose the team if qualified, building the expression context once."""
        context = cel_context(lead, source)
        qualification = self.rules.evaluate_context(context)
        team = self._choose_team(context) if qualification.outcome == "qualified" else None
        return Triage(qualification, team)

    def _choose_team(self, context: dict[str, Any]) -> TeamChoice:
        team, reason = choose_team(self.teams, context)
        return TeamChoice(team, reason)

    def assign(self, choice: TeamChoice, last_rep_id: str | None) -> Placement:
        """Place by the team's policy; the team choice is the first reason either way."""
        placed = place(choice.team, last_rep_id)
        if isinstance(placed, Queued):
            return Queued(placed.team, placed.queue, placed.policy, (choice.reason, *placed.reasons))
        return Assignment(placed.team, placed.rep_id, placed.policy, (choice.reason, *placed.reasons))
