"""What the router decides and sales tools consume (`handoffs` topic): past-tense facts.

Every decision event carries its id, the rules version and its reasons, so a sales tool
(or an auditor) can tell why a lead went where it went.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

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
    # Added with schema compatibility: optional, absent in events from older routers.
    ruleset_version: str | None = Field(default=None, description="the rules version that qualified it")
    score: float | None = Field(default=None, description="lead score (fit + engagement) at assignment")
    decision: dict[str, Any] | None = Field(
        default=None,
        description="the whole decision record: rules evaluated, score breakdown, candidates, "
        "skipped reps and why, owner, policy, rules and config versions",
    )


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
    decision: dict[str, Any] | None = Field(default=None, description="the whole decision record")


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


class SlaEvent(Event):
    """One SLA clock of one lead: `clock_id` names it; the owner at the time travels with it."""

    clock_id: str
    policy: str
    target: str = Field(description="the event that stops the clock: first_touch or accepted_or_rejected")
    team: str
    rep_id: str | None


class SlaStarted(SlaEvent):
    event_type: ClassVar[str] = "sla.started"
    started_at: datetime = Field(description="when the clock started (the assignment, wall clock)")
    target_seconds: int = Field(description="business seconds allowed")
    warning_at: datetime | None
    breach_at: datetime
    timezone: str = Field(description="the calendar's zone business time is counted in")
    system_delay_seconds: int = Field(description="capture -> assigned, wall seconds (the system's part)")


class SlaWarning(SlaEvent):
    event_type: ClassVar[str] = "sla.warning"
    breach_at: datetime
    due_at: datetime
    fired_at: datetime


class SlaBreached(SlaEvent):
    event_type: ClassVar[str] = "sla.breached"
    target_seconds: int
    due_at: datetime
    fired_at: datetime
    paused_seconds: int = Field(default=0, description="wall seconds the clock was paused before the breach")


class SlaEscalated(SlaEvent):
    """A ladder step that tells someone: `remind` the owner, or `notify_manager` (the notifier sends it)."""

    event_type: ClassVar[str] = "sla.escalated"
    action: str
    step: int = Field(description="index of the step in the policy's escalation ladder")
    manager: str | None = None
    reasons: list[Reason] = Field(default_factory=list)
    due_at: datetime
    fired_at: datetime


class SlaPaused(SlaEvent):
    """The clock stopped counting: the lead waits on someone else (the policy's `pause_on`)."""

    event_type: ClassVar[str] = "sla.paused"
    reason: str = Field(description="what paused it, e.g. the CRM stage waiting_on_prospect")
    paused_at: datetime
    business_seconds: int = Field(description="business seconds elapsed when the pause began")


class SlaResumed(SlaEvent):
    """The clock counts again; every pending deadline moved by the paused business time."""

    event_type: ClassVar[str] = "sla.resumed"
    reason: str = Field(description="what had paused it")
    resumed_by: str = Field(description="the activity kind (or stage) that resumed it")
    paused_at: datetime
    resumed_at: datetime
    paused_seconds: int = Field(description="wall seconds of this pause")
    paused_business_seconds: int = Field(description="business seconds this pause kept off the clock")
    warning_at: datetime | None = Field(description="the moved warning, when it has not fired yet")
    breach_at: datetime = Field(description="the moved breach instant")


class SlaMet(SlaEvent):
    """The stop event happened. `within_target` says whether it came before the breach."""

    event_type: ClassVar[str] = "sla.met"
    stopped_by: str = Field(description="the activity kind that stopped the clock")
    stopped_at: datetime
    within_target: bool
    business_seconds: int
    wall_seconds: int
    paused_seconds: int
    target_seconds: int
    system_delay_seconds: int = Field(description="capture -> assigned, wall seconds")
    rep_delay_seconds: int = Field(description="assigned -> stop, wall seconds (business: business_seconds)")
