"""What enters LeadRelay: the canonical lead and sales feedback (`lead-events` topic).

The canonical lead (`LeadData`) is what every form source maps to; fields the
product does not know yet travel in `custom` so rules can still read them.
Each vocabulary (activity kinds, qualification outcomes) is listed once, here.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any, ClassVar, Literal, get_args

from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field, field_validator

# One explicit character class (no `\s`: JSON Schema's ECMA regex and Python disagree on what is
# whitespace), so the published schema and the server accept exactly the same addresses.
_LOCAL = r"[^@ \t\n\r\f\v\x00-\x1f\x7f-\x9f]"
EMAIL_PATTERN = rf"^{_LOCAL}+@{_LOCAL}+\.{_LOCAL}+$"
_EMAIL = re.compile(EMAIL_PATTERN)


def _integral(value: Any) -> Any:
    """JSON Schema's `integer`: 385 and 385.0 are both integers; `true` is not."""
    if isinstance(value, bool):
        raise ValueError("must be an integer, not a boolean")
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


# An integer as JSON Schema means it (used where strict request models must still take 385.0).
JsonInt = Annotated[int, BeforeValidator(_integral)]
Count = Annotated[int, Field(ge=0), BeforeValidator(_integral)]


class Event(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    event_type: ClassVar[str]


class LeadData(BaseModel):
    """A lead as LeadRelay understands it, whatever form tool it came from."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    email: str = Field(max_length=320, pattern=EMAIL_PATTERN, examples=["ada.novak@northwind.example"])
    first_name: str | None = Field(default=None, max_length=200)
    last_name: str | None = Field(default=None, max_length=200)
    company: str | None = Field(default=None, max_length=300)
    title: str | None = Field(default=None, max_length=300)
    phone: str | None = Field(default=None, max_length=50)
    country: str | None = Field(default=None, pattern=r"^[A-Za-z]{2}$", description="ISO 3166-1 alpha-2")
    employees: Count | None = None
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


ActivityKind = Literal[
    "first_touch",
    "accepted",
    "rejected",
    "opportunity_created",
    "stage_changed",
    "won",
    "lost",
]
ACTIVITY_KINDS: tuple[str, ...] = get_args(ActivityKind)

QualificationOutcome = Literal["qualified", "disqualified", "nurtured"]
QUALIFICATION_OUTCOMES: tuple[str, ...] = get_args(QualificationOutcome)


class ActivityRecorded(Event):
    """What sales did with a lead, as a sales tool or CRM reported it."""

    event_type: ClassVar[str] = "activity.recorded"
    kind: ActivityKind
    rep_id: str | None = None
    channel: str | None = Field(default=None, description="first_touch: call, email, meeting, chat, ...")
    reason: str | None = Field(default=None, description="rejected / lost: a reason code")
    value: float | None = Field(default=None, ge=0, description="opportunity_created / won: deal value")
    expected_close: date | None = Field(default=None, description="opportunity_created: expected close date")
    stage: str | None = Field(default=None, description="stage_changed: the CRM's stage name")


class Reason(BaseModel):
    """One line of a decision's explanation: a stable code, a sentence, and the facts used."""

    model_config = ConfigDict(frozen=True)
    code: str
    message: str
    detail: dict[str, Any] = Field(default_factory=dict)
