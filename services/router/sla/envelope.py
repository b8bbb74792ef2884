"""How SLA events leave: a CloudEvent per payload, its id stable so reprocessing never mints a new one.

Pure, shared by the use cases (`service.py`, `feedback.py`, `pausing.py`) and the firing steps.
"""

from __future__ import annotations

from datetime import datetime

from shared.events import CloudEvent, Event, stable_id

EVENT_SOURCE = "leadrelay/router"


def wrap(payload: Event, lead_id: str, time: datetime, *id_parts: str) -> CloudEvent:
    return CloudEvent.wrap(
        payload,
        subject=lead_id,
        source=EVENT_SOURCE,
        time=time,
        event_id=stable_id(*id_parts, payload.event_type),
    )


def whole_seconds(start: datetime, end: datetime) -> int:
    return max(0, int((end - start).total_seconds()))
