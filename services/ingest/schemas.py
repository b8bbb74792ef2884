"""Request and response bodies of the ingest API."""

from __future__ import annotations

from datetime import date

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from shared.events import ActivityKind, LeadData

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:@-]{0,199}$"


class LeadIn(LeadData):
    """A canonical lead. `lead_id` is your id for it (a CRM id, say); LeadRelay makes one if absent."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    lead_id: str | None = Field(default=None, pattern=ID_PATTERN)
    occurred_at: AwareDatetime | None = Field(
        default=None, description="when the lead was captured at the source (event time); default: now"
    )

    def lead(self) -> LeadData:
        return LeadData.model_validate(self.model_dump(exclude={"lead_id", "occurred_at"}))


class ActivityIn(BaseModel):
    """What sales did with a lead, posted back by a sales tool or CRM."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    lead_id: str = Field(pattern=ID_PATTERN)
    kind: ActivityKind
    rep_id: str | None = Field(default=None, max_length=200)
    channel: str | None = Field(default=None, max_length=50, description="first_touch: call, email, ...")
    reason: str | None = Field(default=None, max_length=500, description="rejected / lost: a reason code")
    value: float | None = Field(default=None, ge=0, description="opportunity_created / won: deal value")
    expected_close: date | None = Field(default=None, description="opportunity_created")
    stage: str | None = Field(default=None, max_length=100, description="stage_changed: the CRM stage")
    occurred_at: AwareDatetime | None = Field(default=None, description="when it happened; default: now")


class Accepted(BaseModel):
    event_id: str
    lead_id: str
