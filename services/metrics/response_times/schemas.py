"""Response shapes of GET /v1/response-times (durations in minutes)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class DelayOut(BaseModel):
    count: int
    mean: float | None
    p50: float | None
    p90: float | None
    p99: float | None


class ResponseGroupOut(BaseModel):
    key: str | None = Field(description="the breakdown value; null for leads without one")
    speed_to_lead: DelayOut = Field(description="capture → first touch")
    system_delay: DelayOut = Field(description="capture → assigned (LeadRelay's part)")
    rep_delay: DelayOut = Field(description="assigned → first touch (the owner's part)")
    bands: dict[str, int] = Field(description="speed to lead in 0-5 / 5-15 / 15-60 / 60+ minutes")
    band_shares: dict[str, float | None]
    sla_met: int
    sla_breached: int
    sla_compliance: float | None = Field(description="first-touch SLA clocks met / concluded (business time)")
    target_minutes: float
    within_target: int
    within_target_share: float | None = Field(description="speed to lead within target, wall clock")


class ResponseTimesOut(ResponseGroupOut):
    scope: dict[str, Any]
    groups: list[ResponseGroupOut]
