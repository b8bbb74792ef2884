"""Every published event model, by CloudEvent `type`: the one list consumers and the contract use."""

from __future__ import annotations

from shared.events.erasure import LeadErased, PersonErased
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
    SlaBreached,
    SlaEscalated,
    SlaMet,
    SlaPaused,
    SlaResumed,
    SlaStarted,
    SlaWarning,
)
from shared.events.models import ActivityRecorded, Event, LeadCaptured

PUBLISHED_MODELS: tuple[type[Event], ...] = (
    LeadCaptured,
    ActivityRecorded,
    LeadQualified,
    LeadDisqualified,
    LeadNurtured,
    LeadAssigned,
    LeadQueued,
    LeadReassigned,
    LeadAccepted,
    LeadRejected,
    LeadRecycled,
    SlaStarted,
    SlaWarning,
    SlaBreached,
    SlaEscalated,
    SlaPaused,
    SlaResumed,
    SlaMet,
    PersonErased,
    LeadErased,
)

EVENT_MODELS: dict[str, type[Event]] = {model.event_type: model for model in PUBLISHED_MODELS}
