"""Response shape of GET /v1/leads/{id}/timeline."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field


class TimelineEntryOut(BaseModel):
    at: datetime = Field(description="event time")
    event_id: str
    type: str = Field(description="the event type; activities as activity.<kind>")
    category: str = Field(description="capture | decision | sales | sla")
    stages: list[str] = Field(description="stages the event moved the lead into")
    team: str | None
    rep_id: str | None
    reason: str | None
    value: float | None
    expected_close: date | None
    reasons: list[dict[str, Any]] = Field(description="the decision's reasons: code, message, detail")
    detail: dict[str, Any]


class StageOut(BaseModel):
    stage: str
    first_at: datetime
    last_at: datetime
    entries: int
    hours_in_stage: float | None = Field(description="cumulative over closed stints; null while never left")


class TimelineOut(BaseModel):
    lead_id: str
    source: str | None
    campaign: str | None
    product_line: str | None
    team: str | None
    rep_id: str | None
    deal_value: float | None
    stages: list[StageOut]
    entries: list[TimelineEntryOut]
