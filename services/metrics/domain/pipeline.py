"""Pipeline arithmetic over opportunities: win rate, deal size, cycle, velocity, coverage, slippage.

Definitions (all on event time, windows in the reporting zone):
- closed in the window: won (won_at in it) or lost (lost_at in it, never won);
- win rate = won / (won + lost); average deal = mean known value of the won deals;
- cycle = won_at - opportunity created (the capture when no opportunity was recorded), in days;
- opportunities = opportunities created in the window;
- velocity = opportunities x average deal x win rate / mean cycle days (value per day);
- open = an opportunity neither won nor lost as of `as_of`; slipped = open past its expected close;
- coverage = open pipeline expected to close in the quota period / (quota - won in the period).
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from services.metrics.domain.periods import Window, local_midnight
from services.metrics.domain.reporting_config import QuotaEntry
from services.metrics.domain.stats import ratio


@dataclass(frozen=True)
class Opportunity:
    group: str | None
    team: str | None
    rep_id: str | None
    captured_at: datetime | None
    sql_at: datetime | None
    won_at: datetime | None
    lost_at: datetime | None
    value: float | None
    expected_close: date | None

    def open_at(self, at: datetime) -> bool:
        started = self.sql_at is not None and self.sql_at <= at
        return started and not any(t is not None and t <= at for t in (self.won_at, self.lost_at))


@dataclass(frozen=True)
class PipelineFigures:
    opportunities: int
    won: int
    lost: int
    win_rate: float | None
    won_value: float
    average_deal: float | None
    cycle_days_mean: float | None
    cycle_days_median: float | None
    velocity_per_day: float | None
    open_opportunities: int
    open_value: float
    slipped: int
    slipped_value: float


@dataclass(frozen=True)
class Coverage:
    period: str
    team: str | None
    rep: str | None
    quota: float
    won_value: float
    open_pipeline: float
    remaining: float
    attainment: float | None
    coverage: float | None


def _round(value: float | None, places: int = 2) -> float | None:
    return None if value is None else round(value, places)


def figures(opps: list[Opportunity], w: Window, as_of: datetime) -> PipelineFigures:
    won = [o for o in opps if w.contains(o.won_at)]
    lost = [o for o in opps if o.won_at is None and w.contains(o.lost_at)]
    values = [o.value for o in won if o.value is not None]
    average = statistics.fmean(values) if values else None
    cycles = [
        (o.won_at - start).total_seconds() / 86400
        for o in won
        if o.won_at is not None and (start := o.sql_at or o.captured_at) is not None
    ]
    mean_cycle = statistics.fmean(cycles) if cycles else None
    created = sum(1 for o in opps if w.contains(o.sql_at))
    win_rate = won_count / (won_count + len(lost)) if (won_count := len(won)) + len(lost) else None
    velocity = None
    if average is not None and win_rate is not None and mean_cycle:
        velocity = created * average * win_rate / mean_cycle
    today = as_of.astimezone(ZoneInfo(w.timezone)).date()
    open_ = [o for o in opps if o.open_at(as_of)]
    slipped = [o for o in open_ if o.expected_close is not None and o.expected_close < today]
    return PipelineFigures(
        opportunities=created,
        won=len(won),
        lost=len(lost),
        win_rate=_round(win_rate, 4),
        won_value=round(sum(values), 2),
        average_deal=_round(average),
        cycle_days_mean=_round(mean_cycle, 3),
        cycle_days_median=_round(statistics.median(cycles), 3) if cycles else None,
        velocity_per_day=_round(velocity),
        open_opportunities=len(open_),
        open_value=round(sum(o.value or 0.0 for o in open_), 2),
        slipped=len(slipped),
        slipped_value=round(sum(o.value or 0.0 for o in slipped), 2),
    )


def coverage(
    opps: list[Opportunity], quotas: list[QuotaEntry], timezone: str, as_of: datetime
) -> list[Coverage]:
    tz = ZoneInfo(timezone)
    out = []
    for q in quotas:
        start, end = q.bounds()
        lo, hi = local_midnight(start, tz), local_midnight(end, tz)
        mine = [
            o for o in opps if (q.team is None or o.team == q.team) and (q.rep is None or o.rep_id == q.rep)
        ]
        won = sum(o.value or 0.0 for o in mine if o.won_at is not None and lo <= o.won_at < hi)
        pipeline = sum(
            o.value or 0.0
            for o in mine
            if o.open_at(as_of) and o.expected_close is not None and start <= o.expected_close < end
        )
        remaining = max(q.amount - won, 0.0)
        out.append(
            Coverage(
                period=q.period,
                team=q.team,
                rep=q.rep,
                quota=q.amount,
                won_value=round(won, 2),
                open_pipeline=round(pipeline, 2),
                remaining=round(remaining, 2),
                attainment=ratio(won, q.amount),
                coverage=ratio(pipeline, remaining),
            )
        )
    return out
