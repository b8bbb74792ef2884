"""Request and response bodies of the ingest API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    WithJsonSchema,
    model_validator,
)

from shared.events import ActivityKind, LeadData
from shared.events.models import EMAIL_PATTERN

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:@-]{0,199}$"
_YEARS = r"^(19\d\d|2\d\d\d)-"


def _in_range(value: datetime) -> datetime:
    # Every time is stored and reported in UTC: it must exist there (0001-01-01T01:00+07:00 does not).
    if not 1900 <= value.year <= 2999:
        raise ValueError("must be between the years 1900 and 2999")
    return value


# Event time as the schema states it: RFC 3339 with an offset, years 1900-2999.
EventTime = Annotated[
    AwareDatetime,
    AfterValidator(_in_range),
    WithJsonSchema({"type": "string", "format": "date-time", "pattern": _YEARS}),
]


# A lead's own id and event time, as `LeadIn` and `LeadRef` both declare them (one definition).
LeadId = Annotated[str | None, Field(pattern=ID_PATTERN)]
OccurredAt = Annotated[
    EventTime | None,
    Field(
        strict=True,  # an RFC 3339 string with its offset, never a bare number
        description="when the lead was captured at the source (event time); default: now",
    ),
]
_STRICT = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True, strict=True)


class LeadIn(LeadData):
    """A canonical lead. `lead_id` is your id for it (a CRM id, say); LeadRelay makes one if absent."""

    # Strict: JSON types as the schema states them (no `false` for a number, no `0` for a boolean).
    model_config = _STRICT

    lead_id: LeadId = None
    occurred_at: OccurredAt = None

    def lead(self) -> LeadData:
        return LeadData.model_validate(self.model_dump(exclude={"lead_id", "occurred_at"}))


class LeadRef(BaseModel):
    """`LeadIn`'s own two fields alone, with LeadIn's rules: for a lead whose other fields were
    validated already (a form tool's mapped `LeadData`), so it is not validated a second time."""

    model_config = _STRICT

    lead_id: LeadId = None
    occurred_at: OccurredAt = None


class ActivityIn(BaseModel):
    """What sales did with a lead, posted back by a sales tool or CRM."""

    # Address the lead by LeadRelay's lead id, or by the email it was captured with (at least one).
    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        strict=True,
        json_schema_extra={
            "anyOf": [
                {"required": ["lead_id"], "properties": {"lead_id": {"type": "string"}}},
                {"required": ["email"], "properties": {"email": {"type": "string"}}},
            ]
        },
    )

    lead_id: str | None = Field(default=None, pattern=ID_PATTERN)
    email: str | None = Field(
        default=None, max_length=320, pattern=EMAIL_PATTERN, description="the lead's email, when no lead_id"
    )
    kind: ActivityKind
    rep_id: str | None = Field(default=None, max_length=200)
    channel: str | None = Field(default=None, max_length=50, description="first_touch: call, email, ...")
    reason: str | None = Field(default=None, max_length=500, description="rejected / lost: a reason code")
    value: float | None = Field(default=None, ge=0, description="opportunity_created / won: deal value")
    expected_close: date | None = Field(default=None, strict=True, description="opportunity_created")
    stage: str | None = Field(default=None, max_length=100, description="stage_changed: the CRM stage")
    occurred_at: EventTime | None = Field(
        default=None, strict=True, description="when it happened (RFC 3339 with offset); default: now"
    )

    @model_validator(mode="after")
    def _addressed(self) -> ActivityIn:
        if self.lead_id is None and self.email is None:
            raise ValueError("give lead_id, or the email the lead was captured with")
        return self


class Accepted(BaseModel):
    event_id: str
    lead_id: str
