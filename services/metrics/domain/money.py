"""The dollar funnel and cost per stage: what values mean, and when an estimate is allowed."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from services.metrics.domain.periods import Window, overlap_fraction
from services.metrics.domain.reporting_config import SpendEntry


@dataclass(frozen=True)
class StageValue:
    """One stage of the dollar funnel.

    tabulated: the sum of the deal values known for leads that reached the stage.
    estimated: leads without a value x the average known deal. With fewer known deals than
    `min_deals`, one large deal would dominate the average, so nothing is estimated (tabulate only).
    """

    stage: str
    leads: int
    tabulated_value: float
    tabulated_leads: int
    estimated_value: float | None
    estimated_leads: int
    total_value: float
    method: str  # tabulated | estimated | tabulated+estimated | none


def stage_value(
    stage: str, leads: int, known: int, known_sum: float, average: float | None, estimate: bool
) -> StageValue:
    unknown = leads - known
    estimated = round(unknown * average, 2) if estimate and average is not None and unknown else None
    parts = [name for name, on in (("tabulated", known > 0), ("estimated", estimated is not None)) if on]
    return StageValue(
        stage=stage,
        leads=leads,
        tabulated_value=round(known_sum, 2),
        tabulated_leads=known,
        estimated_value=estimated,
        estimated_leads=unknown if estimated is not None else 0,
        total_value=round(known_sum + (estimated or 0.0), 2),
        method="+".join(parts) or "none",
    )


def spend_in(spend: list[SpendEntry], source: str, w: Window) -> float:
    """Spend of one source over the window, months prorated by the share of them it covers."""
    tz = ZoneInfo(w.timezone)
    return round(
        sum(e.amount * overlap_fraction(e.first_day, 1, w, tz) for e in spend if e.source == source), 2
    )


def per(amount: float, count: int) -> float | None:
    return round(amount / count, 2) if count else None
