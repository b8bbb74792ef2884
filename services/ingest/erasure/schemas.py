"""Bodies of the erasure API."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from shared.events.models import EMAIL_PATTERN


class ErasureIn(BaseModel):
    """Who to erase: the email address the person's leads were captured with."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True, str_strip_whitespace=True)

    email: str = Field(max_length=320, pattern=EMAIL_PATTERN, examples=["ada.novak@northwind.example"])


class ErasureOut(BaseModel):
    erasure_id: str = Field(description="names this request in every service's logs and events")
    lead_ids: list[str] = Field(description="the leads erased; empty when none was captured with the email")
    events: int = Field(description="person.erased events published (one per lead)")
    detail: str
