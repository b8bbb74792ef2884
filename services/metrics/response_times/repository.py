"""Response-time queries over the durations the fold stored on each lead (`speed_minutes`,
`system_minutes`, `rep_minutes`, double precision, m0004). On PostgreSQL the percentiles are
computed in SQL (percentile_cont over the stored columns, one sort per measure, GROUPING SETS for
the total and the breakdown in one pass); SQLite has no ordered-set aggregates, so there the
durations are read and summarised in Python, column-wise (`summary.py`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Float, func, literal, literal_column, or_, select
from sqlalchemy.dialects.postgresql import ARRAY, array
from sqlalchemy.ext.asyncio import AsyncSession

from services.metrics.domain.response_times import DelayStats, ResponseSummary
from services.metrics.domain.stats import BANDS, QUANTILES, ratio
from services.metrics.reports.repository import DIMENSION_COLUMNS, cohort_where
from services.metrics.reports.scope import Scope
from services.metrics.response_times.summary import Row, summarize_rows
from services.metrics.tables import leads

Summaries = dict[str | None, ResponseSummary]  # breakdown value -> summary; key "" is the total
TOTAL = ""
SPEED, SYSTEM, REP = leads.c.speed_minutes, leads.c.system_minutes, leads.c.rep_minutes


def _in_scope(scope: Scope) -> list[ColumnElement[bool]]:
    return [or_(leads.c.first_touch_at.is_not(None), leads.c.assigned_at.is_not(None)), *cohort_where(scope)]


async def response_summaries(session: AsyncSession, scope: Scope, target_minutes: float) -> Summaries:
    if session.get_bind().dialect.name == "postgresql":
        return await _postgres(session, scope, target_minutes)
    measures = (SPEED, SYSTEM, REP, leads.c.sla_first_touch)
    if not scope.by:
        rows = (await session.execute(select(*measures).where(*_in_scope(scope)))).all()
        return {TOTAL: summarize_rows(rows, target_minutes)}
    stmt = select(DIMENSION_COLUMNS[scope.by], *measures).where(*_in_scope(scope))
    groups: dict[str | None, list[Row]] = {}
    everyone: list[Row] = []
    for g, *row in await session.execute(stmt):
        measured: Row = (row[0], row[1], row[2], row[3])
        everyone.append(measured)
        groups.setdefault(None if g is None else str(g), []).append(measured)
    return {TOTAL: summarize_rows(everyone, target_minutes)} | {
        k: summarize_rows(v, target_minutes) for k, v in groups.items()
    }


def _band(speed: ColumnElement[Any], i: int) -> ColumnElement[bool]:
    """As `band_of`: [lo, hi), the first band open below (a touch logged before capture), the last above."""
    _, lo, hi = BANDS[i]
    if i == 0:
        return speed < hi
    if i == len(BANDS) - 1:
        return speed >= lo
    return (speed >= lo) & (speed < hi)


async def _postgres(session: AsyncSession, scope: Scope, target_minutes: float) -> Summaries:
    speed = SPEED
    quantiles = array([literal(q) for q in QUANTILES], type_=Float)
    columns = []
    for measure in (SPEED, SYSTEM, REP):
        columns += [
            func.count(measure),
            func.avg(measure),
            func.percentile_cont(quantiles).within_group(measure).cast(ARRAY(Float)),
        ]
    columns += [func.count().filter(_band(speed, i)) for i in range(len(BANDS))]
    columns += [
        func.count().filter(leads.c.sla_first_touch == "met"),
        func.count().filter(leads.c.sla_first_touch == "breached"),
        func.count().filter(speed <= target_minutes),
    ]
    by = DIMENSION_COLUMNS[scope.by] if scope.by else None
    group, grouping = (by, func.grouping(by)) if by is not None else (literal(None), literal(1))
    stmt = select(group, grouping, *columns).where(*_in_scope(scope))
    if by is not None:
        # The breakdown and the total in one pass over the rows.
        stmt = stmt.group_by(func.grouping_sets(by, literal_column("()")))
    out: Summaries = {}
    for row in (await session.execute(stmt)).all():
        key, is_total, values = row[0], row[1], list(row[2:])
        stats = []
        for i in range(3):
            n, mean, pcts = values[3 * i : 3 * i + 3]
            p = [None if v is None else round(float(v), 4) for v in (pcts or [None] * len(QUANTILES))]
            stats.append(DelayStats(int(n), None if mean is None else round(float(mean), 4), *p))
        band_counts = [int(v or 0) for v in values[9 : 9 + len(BANDS)]]
        met, breached, within = (int(v or 0) for v in values[9 + len(BANDS) :])
        bands = {name: band_counts[i] for i, (name, _, _) in enumerate(BANDS)}
        touched = stats[0].count
        out[TOTAL if is_total else (None if key is None else str(key))] = ResponseSummary(
            speed_to_lead=stats[0],
            system_delay=stats[1],
            rep_delay=stats[2],
            bands=bands,
            band_shares={k: ratio(n, touched) for k, n in bands.items()},
            sla_met=met,
            sla_breached=breached,
            sla_compliance=ratio(met, met + breached),
            target_minutes=target_minutes,
            within_target=within,
            within_target_share=ratio(within, touched),
        )
    return out
