"""Distribution arithmetic the reports share: percentiles (as SQL's percentile_cont), SLA bands."""

from __future__ import annotations

import math
from collections.abc import Sequence

# Speed-to-lead bands, in minutes: [0, 5), [5, 15), [15, 60), [60, ∞).
BANDS: tuple[tuple[str, float, float], ...] = (
    ("0-5m", 0.0, 5.0),
    ("5-15m", 5.0, 15.0),
    ("15-60m", 15.0, 60.0),
    ("60m+", 60.0, math.inf),
)
QUANTILES: tuple[float, ...] = (0.5, 0.9, 0.99)


def percentile_cont(ordered: Sequence[float], q: float) -> float | None:
    """Linear interpolation between closest ranks, exactly PostgreSQL's percentile_cont.

    `ordered` must be sorted ascending."""
    if not ordered:
        return None
    position = q * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def band_of(minutes: float) -> str:
    for name, lo, hi in BANDS:
        if lo <= minutes < hi:
            return name
    return BANDS[0][0]  # negative (a touch logged before capture): the fastest band


def ratio(numerator: float, denominator: float, places: int = 4) -> float | None:
    return round(numerator / denominator, places) if denominator else None
