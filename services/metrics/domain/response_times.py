"""Speed to lead and its two parts, per lead in minutes of wall time (event time):

- speed to lead = first touch - capture (what the buyer feels);
- system delay  = assigned - capture (LeadRelay's part: qualify, route, hand off);
- rep delay     = first touch - assigned (the owner's part).
Percentiles are percentile_cont (linear interpolation), the same on both databases.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field

from services.metrics.domain.stats import BANDS, QUANTILES, band_of, percentile_cont, ratio


@dataclass(frozen=True)
class Sample:
    speed: float | None
    system: float | None
    rep: float | None
    sla: str | None  # met | breached | None (no router clock)


@dataclass(frozen=True)
class DelayStats:
    count: int
    mean: float | None
    p50: float | None
    p90: float | None
    p99: float | None


@dataclass(frozen=True)
class ResponseSummary:
    speed_to_lead: DelayStats
    system_delay: DelayStats
    rep_delay: DelayStats
    bands: dict[str, int]
    band_shares: dict[str, float | None]
    sla_met: int
    sla_breached: int
    sla_compliance: float | None  # met / (met + breached), from the router's business-time clocks
    target_minutes: float
    within_target: int  # speed to lead <= target (wall clock), for leads without a router clock too
    within_target_share: float | None = field(default=None)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def delay_stats(values: list[float]) -> DelayStats:
    ordered = sorted(values)
    p = [_round(percentile_cont(ordered, q)) for q in QUANTILES]
    return DelayStats(len(ordered), _round(statistics.fmean(ordered)) if ordered else None, *p)


def summarize(samples: list[Sample], target_minutes: float) -> ResponseSummary:
    speeds = [s.speed for s in samples if s.speed is not None]
    bands = dict.fromkeys((name for name, _, _ in BANDS), 0)
    for v in speeds:
        bands[band_of(v)] += 1
    met = sum(1 for s in samples if s.sla == "met")
    breached = sum(1 for s in samples if s.sla == "breached")
    within = sum(1 for v in speeds if v <= target_minutes)
    systems = [s.system for s in samples if s.system is not None]
    reps = [s.rep for s in samples if s.rep is not None]
    return assemble(speeds, systems, reps, bands, (met, breached), within, target_minutes)


def assemble(
    speeds: list[float],
    systems: list[float],
    reps: list[float],
    bands: dict[str, int],
    sla: tuple[int, int],
    within: int,
    target_minutes: float,
) -> ResponseSummary:
    """The summary from counted parts (shared by `summarize` and the column-wise SQLite path)."""
    met, breached = sla
    return ResponseSummary(
        speed_to_lead=delay_stats(speeds),
        system_delay=delay_stats(systems),
        rep_delay=delay_stats(reps),
        bands=bands,
        band_shares={k: ratio(n, len(speeds)) for k, n in bands.items()},
        sla_met=met,
        sla_breached=breached,
        sla_compliance=ratio(met, met + breached),
        target_minutes=target_minutes,
        within_target=within,
        within_target_share=ratio(within, len(speeds)),
    )
