"""Response shapes of GET /v1/pipeline."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class FiguresOut(BaseModel):
    opportunities: int = Field(description="opportunities created in the window")
    won: int
    lost: int
    win_rate: float | None = Field(description="won / (won + lost), deals closed in the window")
    won_value: float
    average_deal: float | None = Field(description="mean value of the deals won in the window")
    cycle_days_mean: float | None = Field(description="opportunity created → won, days")
    cycle_days_median: float | None
    velocity_per_day: float | None = Field(description="opportunities x average deal x win rate / cycle days")
    open_opportunities: int = Field(description="as of `as_of`: neither won nor lost")
    open_value: float
    slipped: int = Field(description="open opportunities past their expected close")
    slipped_value: float


class StageTimeOut(BaseModel):
    stage: str
    leads: int = Field(description="leads of the cohort that left the stage (open stints are not counted)")
    mean_hours: float | None


class PipelineGroupOut(BaseModel):
    key: str | None
    figures: FiguresOut
    time_in_stage: list[StageTimeOut]


class CoverageOut(BaseModel):
    period: str
    team: str | None
    rep: str | None
    quota: float
    won_value: float
    open_pipeline: float = Field(description="open opportunities expected to close in the period")
    remaining: float
    attainment: float | None
    coverage: float | None = Field(description="open pipeline / remaining quota")


class PipelineOut(BaseModel):
    scope: dict[str, Any]
    currency: str
    figures: FiguresOut
    time_in_stage: list[StageTimeOut]
    coverage: list[CoverageOut]
    groups: list[PipelineGroupOut]
