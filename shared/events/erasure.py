"""Erasure of one person's data (GDPR right to erasure), as events that carry no personal data.

`person.erased` goes on `lead-events`, published by ingest once per lead id the person came in
with, keyed by that lead id: it lands on the lead's partition after the lead's own events, so every
consumer of that topic sees it after what it erases. `lead.erased` goes on `handoffs`, published by
the router once it has erased its own copy, so everything downstream of the router (metrics,
delivery, sales tools) follows in order too. Neither carries the email or any other personal field:
putting them in the log would be writing down again what is being erased.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from pydantic import Field

from shared.events.models import Event


class PersonErased(Event):
    """A person asked to be erased: every service forgets the personal fields of this lead."""

    event_type: ClassVar[str] = "person.erased"
    erasure_id: str = Field(description="one id per erasure request, shared by all of the person's leads")
    requested_at: datetime = Field(description="when the erasure was requested (wall clock)")


class LeadErased(Event):
    """The router erased this lead's personal fields; consumers of handoffs erase their copies."""

    event_type: ClassVar[str] = "lead.erased"
    erasure_id: str = Field(description="the erasure request this follows from")
    requested_at: datetime
    erased_at: datetime = Field(description="when the router erased its copy (wall clock)")
