"""What the router decides and sales tools consume (`handoffs` topic): past-tense facts.

Every decision event carries its id, the rules version and its reasons, so a sales tool
(or an auditor) can tell why a lead went where it went.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from pydantic import Field

from shared.events.models import Event, Reason


class QualificationDecided(Event):
    decision_id: str
    source: str
    ruleset_version: str
    rule: str | None
    reasons: list[Reason]
    decided_at: datetime = Field(description="wall-clock time of the decision (system delay = this - time)")


class LeadQualified(QualificationDecided):
    event_type: ClassVar[str] = "lead.qualified"


class LeadDisqualified(QualificationDecided):
    event_type: ClassVar[str] = "lead.disqualified"


class LeadNurtured(QualificationDecided):
    event_type: ClassVar[str] = "lead.nurtured"


class LeadAssigned(Event):
    """Handed off: a rep owns the lead now."""

    event_type: ClassVar[str] = "lead.assigned"
    decision_id: str
    source: str
    rep_id: str
    team: str
    policy: str
    reasons: list[Reason]
    decided_at: datetime


class LeadQueued(Event):
    """Nobody was eligible: the lead waits in the team's queue. Not a handoff (no owner yet)."""

    event_type: ClassVar[str] = "lead.queued"
    decision_id: str
    source: str
    team: str
    queue: str
    policy: str
    reasons: list[Reason] = Field(description="why nobody was eligible (inactive, capped, away, ...)")
    decided_at: datetime


class LeadReassigned(Event):
    """Ownership moved (an SLA escalation, or a rep's rejection routed on)."""

    event_type: ClassVar[str] = "lead.reassigned"
    decision_id: str
    source: str
    previous_rep_id: str | None
    rep_id: str
    team: str
    policy: str
    reasons: list[Reason]
    decided_at: datetime


class LeadAccepted(Event):
    """Sales accepted the lead (SAL)."""

    event_type: ClassVar[str] = "lead.accepted"
    rep_id: str | None = None


class LeadRejected(Event):
    """Sales rejected the lead, with a reason code."""

    event_type: ClassVar[str] = "lead.rejected"
    rep_id: str | None = None
    reason: str | None = None


class LeadRecycled(Event):
    """A rejected or stalled lead goes back to nurture."""

    event_type: ClassVar[str] = "lead.recycled"
    reason: str | None = None
