"""Response shapes of the metrics HTTP API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class FunnelStepOut(BaseModel):
    stage: str
    label: str
    reached: int
    conversion_from_previous: float | None
    conversion_from_start: float | None


class FunnelFilters(BaseModel):
    """Which leads a report covers: a capture cohort [from, to) on event time, and a source."""

    model_config = ConfigDict(frozen=True)

    captured_from: datetime | None = None
    captured_to: datetime | None = Field(default=None, description="exclusive")
    source: str | None = None


class FunnelOut(BaseModel):
    filters: FunnelFilters
    total: int
    steps: list[FunnelStepOut]
    exits: dict[str, int]
    queued: int = Field(description="leads waiting in a team queue (qualified, no owner yet)")
