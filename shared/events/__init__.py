"""Event contract: CloudEvents 1.0 envelope, typed payloads, topic names."""

from shared.events.envelope import SCHEMA_VERSION, CloudEvent, EnvelopeError
from shared.events.handoffs import (
    LeadAccepted,
    LeadAssigned,
    LeadDisqualified,
    LeadNurtured,
    LeadQualified,
    LeadQueued,
    LeadReassigned,
    LeadRecycled,
    LeadRejected,
    QualificationDecided,
)
from shared.events.ids import new_event_id, stable_id
from shared.events.models import (
    ACTIVITY_KINDS,
    QUALIFICATION_OUTCOMES,
    ActivityKind,
    ActivityRecorded,
    Event,
    LeadCaptured,
    LeadData,
    QualificationOutcome,
    Reason,
)
from shared.events.registry import EVENT_MODELS, PUBLISHED_MODELS
from shared.events.topics import Topics

__all__ = [
    "ACTIVITY_KINDS",
    "EVENT_MODELS",
    "PUBLISHED_MODELS",
    "QUALIFICATION_OUTCOMES",
    "SCHEMA_VERSION",
    "ActivityKind",
    "ActivityRecorded",
    "CloudEvent",
    "EnvelopeError",
    "Event",
    "LeadAccepted",
    "LeadAssigned",
    "LeadCaptured",
    "LeadData",
    "LeadDisqualified",
    "LeadNurtured",
    "LeadQualified",
    "LeadQueued",
    "LeadReassigned",
    "LeadRecycled",
    "LeadRejected",
    "QualificationDecided",
    "QualificationOutcome",
    "Reason",
    "Topics",
    "new_event_id",
    "stable_id",
]
