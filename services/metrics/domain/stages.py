"""The stage model: which events move a lead into which stages.

Main path, in order: captured → reviewed → mql → assigned → sal → sql → won.
Exits: disqualified, nurturing, rejected, lost. Hold: queued (waiting for an owner).
"Reached" semantics: a lead counts in every main-path stage up to the furthest it reached;
an exit adds no later stage.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from shared.events import (
    ActivityKind,
    ActivityRecorded,
    Event,
    LeadAccepted,
    LeadAssigned,
    LeadCaptured,
    LeadDisqualified,
    LeadNurtured,
    LeadQualified,
    LeadQueued,
    LeadReassigned,
    LeadRecycled,
    LeadRejected,
    QualificationDecided,
)

MAIN_PATH: tuple[str, ...] = ("captured", "reviewed", "mql", "assigned", "sal", "sql", "won")
EXITS: tuple[str, ...] = ("disqualified", "nurturing", "rejected", "lost")
# Waiting in a team queue: not handed off, not an exit. Reports show it apart from Assigned.
HOLDS: tuple[str, ...] = ("queued",)
RANK = {stage: index for index, stage in enumerate(MAIN_PATH)}

STAGE_LABELS = {
    "captured": "Captured",
    "reviewed": "Reviewed",
    "mql": "MQL",
    "assigned": "Assigned",
    "sal": "Accepted (SAL)",
    "sql": "SQL / opportunity",
    "won": "Closed-won",
    "disqualified": "Disqualified",
    "nurturing": "Nurturing",
    "rejected": "Rejected",
    "lost": "Closed-lost",
    "queued": "Queued (no owner yet)",
}

# Which stages each published event moves a lead into, keyed by the event model itself (a type
# no model defines cannot appear here). Activities move stages by their kind: every kind is listed.
EVENT_STAGES: dict[type[Event], tuple[str, ...]] = {
    LeadCaptured: ("captured",),
    LeadQualified: ("reviewed", "mql"),
    LeadDisqualified: ("reviewed", "disqualified"),
    LeadNurtured: ("reviewed", "nurturing"),
    LeadAssigned: ("assigned",),
    LeadQueued: ("queued",),
    LeadReassigned: ("assigned",),
    LeadAccepted: ("sal",),
    LeadRejected: ("rejected",),
    LeadRecycled: ("nurturing",),
}
ACTIVITY_STAGES: dict[ActivityKind, tuple[str, ...]] = {
    "first_touch": (),  # a response time, not a stage (response-time reports read it)
    "accepted": ("sal",),
    "rejected": ("rejected",),
    "opportunity_created": ("sql",),
    "stage_changed": (),  # the CRM's own stages; the funnel moves on opportunity, won, lost
    "won": ("won",),
    "lost": ("lost",),
}
STAGE_MOVING_MODELS: tuple[type[Event], ...] = (*EVENT_STAGES, ActivityRecorded)


@dataclass(frozen=True)
class Transition:
    lead_id: str
    stage: str
    occurred_at: datetime
    event_id: str
    event_type: str


def stages_for(event: Event) -> tuple[str, ...]:
    if isinstance(event, ActivityRecorded):
        return ACTIVITY_STAGES[event.kind]
    return EVENT_STAGES.get(type(event), ())


def source_of(event: Event) -> str | None:
    """The lead source an event states (the typed field, never a raw dict lookup)."""
    match event:
        case LeadCaptured(source=source) | QualificationDecided(source=source):
            return source
        case LeadAssigned(source=source) | LeadQueued(source=source) | LeadReassigned(source=source):
            return source
    return None


def furthest_rank(stages: list[str] | tuple[str, ...]) -> int | None:
    ranks = [RANK[s] for s in stages if s in RANK]
    return max(ranks) if ranks else None
