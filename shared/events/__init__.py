"""Event contract: CloudEvents 1.0 envelope, typed payloads, topic names."""

from shared.events.envelope import SCHEMA_VERSION, CloudEvent, EnvelopeError, new_event_id
from shared.events.models import (
    EVENT_MODELS,
    ActivityRecorded,
    Event,
    LeadAssigned,
    LeadCaptured,
    LeadData,
    LeadDisqualified,
    LeadNurtured,
    LeadQualified,
    Reason,
)
from shared.events.topics import Topics

__all__ = [
    "EVENT_MODELS",
    "SCHEMA_VERSION",
    "ActivityRecorded",
    "CloudEvent",
    "EnvelopeError",
    "Event",
    "LeadAssigned",
    "LeadCaptured",
    "LeadData",
    "LeadDisqualified",
    "LeadNurtured",
    "LeadQualified",
    "Reason",
    "Topics",
    "new_event_id",
]
