"""Event payloads: past-tense facts, the `data` of a CloudEvent.

The canonical lead (`LeadData`) is what every form source maps to; fields the
product does not know yet travel in `custom` so rules can still read them.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, ClassVar, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class Event(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    event_type: ClassVar[str]


class LeadData(BaseModel):
    """A lead as LeadRelay understands it, whatever form tool it came from."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    email: str = Field(max_length=320)
    first_name: str | None = Field(default=None, max_length=200)
    last_name: str | None = Field(default=None, max_length=200)
    company: str | None = Field(default=None, max_length=300)
    title: str | None = Field(default=None, max_length=300)
    phone: str | None = Field(default=None, max_length=50)
    country: str | None = Field(default=None, min_length=2, max_length=2, description="ISO 3166-1 alpha-2")
    employees: int | None = Field(default=None, ge=0)
    annual_revenue: float | None = Field(default=None, ge=0)
    industry: str | None = Field(default=None, max_length=200)
    product_line: str | None = Field(default=None, max_length=100)
    campaign: str | None = Field(default=None, max_length=300)
    consent: bool | None = Field(default=None, description="marketing consent as given on the form, if asked")
    signals: list[str] = Field(
        default_factory=list,
        description="intent signals from the source (e.g. meeting_booked, demo_request) for scoring",
    )
    utm: dict[str, str] = Field(default_factory=dict)
    custom: dict[str, Any] = Field(default_factory=dict)

    @field_validator("email")
    @classmethod
    def _email_shape(cls, value: str) -> str:
        if not _EMAIL.match(value):
            raise ValueError("must be an email address like name@example.com")
        return value.lower()

    @field_validator("country")
    @classmethod
    def _upper_country(cls, value: str | None) -> str | None:
        return value.upper() if value else value


class LeadCaptured(Event):
    event_type: ClassVar[str] = "lead.captured"
    lead: LeadData
    source: str
    received_at: AwareDatetime


class ActivityRecorded(Event):
    event_type: ClassVar[str] = "activity.recorded"
    kind: Literal["first_touch", "accepted", "rejected", "opportunity", "won", "lost"]
    rep_id: str | None = None
    reason: str | None = None
    amount: float | None = None


class Reason(BaseModel):
    """One line of a decision's explanation: a stable code, a sentence, and the facts used."""

    model_config = ConfigDict(frozen=True)
    code: str
    message: str
    detail: dict[str, Any] = Field(default_factory=dict)


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
    event_type: ClassVar[str] = "lead.assigned"
    decision_id: str
    source: str
    rep_id: str
    team: str
    policy: str
    reasons: list[Reason]
    decided_at: datetime


EVENT_MODELS: dict[str, type[Event]] = {
    model.event_type: model
    for model in (
        LeadCaptured,
        ActivityRecorded,
        LeadQualified,
        LeadDisqualified,
        LeadNurtured,
        LeadAssigned,
    )
}
