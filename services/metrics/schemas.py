"""Response shapes of the metrics HTTP API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class FunnelStepOut(BaseModel):
    stage: str
    label: str
    reached: int
    conversion_from_previous: float | None
    conversion_from_start: float | None


class FunnelFilters(BaseModel):
    captured_from: datetime | None
    captured_to: datetime | None
    source: str | None


class FunnelOut(BaseModel):
    filters: FunnelFilters
    total: int
    steps: list[FunnelStepOut]
    exits: dict[str, int]
