"""Response shapes of GET /v1/funnel (`total`, `steps`, `exits`, `queued` as before; the rest added)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class FunnelStepOut(BaseModel):
    stage: str
    label: str
    reached: int
    conversion_from_previous: float | None
    conversion_from_start: float | None


class StageValueOut(BaseModel):
    stage: str
    leads: int
    tabulated_value: float = Field(description="sum of known deal values of the leads that reached the stage")
    tabulated_leads: int
    estimated_value: float | None = Field(
        description="leads without a value x average deal; null when too few deals to estimate"
    )
    estimated_leads: int
    total_value: float
    method: str = Field(description="tabulated | estimated | tabulated+estimated | none")


class FunnelGroupOut(BaseModel):
    key: str | None = Field(description="the breakdown value (null: leads without one)")
    total: int
    steps: list[FunnelStepOut]
    exits: dict[str, int]
    queued: int
    average_deal: float | None
    dollars: list[StageValueOut]


class CostOut(BaseModel):
    source: str
    spend: float = Field(description="configured spend over the cohort window (months prorated)")
    leads: int
    mql: int
    sql: int
    won: int
    per_lead: float | None
    per_mql: float | None
    per_sql: float | None
    per_won: float | None


class FunnelOut(BaseModel):
    scope: dict[str, Any]
    currency: str
    total: int
    steps: list[FunnelStepOut]
    exits: dict[str, int]
    queued: int = Field(description="leads waiting in a team queue (qualified, no owner yet)")
    average_deal: float | None
    dollars: list[StageValueOut]
    groups: list[FunnelGroupOut] = Field(description="one pipeline per breakdown value, with `by=`")
    costs: list[CostOut] = Field(description="cost per lead / MQL / SQL / won, per source with spend")
