"""Funnel use case: fold the GROUP BY rows into reached counts, dollars and costs; CSV."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy.ext.asyncio import AsyncSession

from services.metrics.domain.funnel import build_funnel
from services.metrics.domain.money import per, spend_in, stage_value
from services.metrics.domain.stages import EXITS, MAIN_PATH, RANK
from services.metrics.funnel.repository import FunnelRow, funnel_rows
from services.metrics.funnel.schemas import CostOut, FunnelGroupOut, FunnelOut, FunnelStepOut, StageValueOut
from services.metrics.reports.csv_output import to_csv
from services.metrics.reports.scope import ReportConfig, Scope


def _group(key: str | None, rows: Iterable[FunnelRow], min_deals: int) -> FunnelGroupOut:
    by_rank: dict[int, int] = defaultdict(int)
    valued: dict[int, int] = defaultdict(int)
    summed: dict[int, float] = defaultdict(float)
    exits: dict[str, int] = dict.fromkeys(EXITS, 0)
    queued = known_all = 0
    sum_all = 0.0
    for r in rows:
        for stage, n in r.exits.items():
            exits[stage] += n
        queued += r.queued
        known_all += r.valued
        sum_all += r.value_sum
        if r.furthest_rank is not None:
            by_rank[r.furthest_rank] += r.leads
            valued[r.furthest_rank] += r.valued
            summed[r.furthest_rank] += r.value_sum
    funnel = build_funnel(dict(by_rank), exits)
    average = sum_all / known_all if known_all else None
    dollars = []
    for stage in MAIN_PATH:
        reached_ranks = [rank for rank in by_rank if rank >= RANK[stage]]
        dollars.append(
            stage_value(
                stage,
                sum(by_rank[k] for k in reached_ranks),
                sum(valued[k] for k in reached_ranks),
                sum(summed[k] for k in reached_ranks),
                average,
                known_all >= min_deals,
            )
        )
    return FunnelGroupOut(
        key=key,
        total=funnel.total,
        steps=[FunnelStepOut(**step.__dict__) for step in funnel.steps],
        exits=funnel.exits,
        queued=queued,
        average_deal=round(average, 2) if average is not None else None,
        dollars=[StageValueOut(**d.__dict__) for d in dollars],
    )


def _costs(rows: list[FunnelRow], scope: Scope, config: ReportConfig) -> list[CostOut]:
    sources = sorted({e.source for e in config.spend})
    out = []
    for source in sources:
        if scope.filters.get("source", source) != source:
            continue
        g = _group(source, [r for r in rows if r.source == source], 1)
        reached = {s.stage: s.reached for s in g.steps}
        spend = spend_in(list(config.spend), source, scope.window)
        counts = {k: reached[k] for k in ("mql", "sql", "won")}
        out.append(
            CostOut(
                source=source,
                spend=spend,
                leads=g.total,
                **counts,
                per_lead=per(spend, g.total),
                per_mql=per(spend, counts["mql"]),
                per_sql=per(spend, counts["sql"]),
                per_won=per(spend, counts["won"]),
            )
        )
    return out


async def funnel_report(session: AsyncSession, scope: Scope, config: ReportConfig | None = None) -> FunnelOut:
    config = config or ReportConfig()
    rows = await funnel_rows(session, scope)
    min_deals = config.reporting.min_deals_to_estimate
    overall = _group(None, rows, min_deals)
    groups: list[FunnelGroupOut] = []
    if scope.by:
        keys = sorted({r.group for r in rows}, key=lambda k: (k is None, k or ""))
        groups = [_group(k, [r for r in rows if r.group == k], min_deals) for k in keys]
    return FunnelOut(
        scope=scope.describe(),
        currency=config.reporting.currency,
        **overall.model_dump(exclude={"key"}),
        groups=groups,
        costs=_costs(rows, scope, config),
    )


CSV_HEADER = [
    "stage",
    "label",
    "reached",
    "conversion_from_previous",
    "conversion_from_start",
    "tabulated_value",
    "estimated_value",
    "total_value",
    "value_method",
    "group",
]


def _group_rows(g: FunnelGroupOut | FunnelOut, key: str | None) -> list[dict[str, object]]:
    values = {d.stage: d for d in g.dollars}
    rows: list[dict[str, object]] = []
    for s in g.steps:
        d = values[s.stage]
        rows.append(
            s.model_dump()
            | {"conversion_from_previous": _pct(s.conversion_from_previous)}
            | {"conversion_from_start": _pct(s.conversion_from_start)}
            | {"tabulated_value": d.tabulated_value, "estimated_value": d.estimated_value}
            | {"total_value": d.total_value, "value_method": d.method, "group": key}
        )
    rows += [{"stage": k, "label": f"exit: {k}", "reached": n, "group": key} for k, n in g.exits.items()]
    rows.append(
        {"stage": "queued", "label": "hold: queued (no owner yet)", "reached": g.queued, "group": key}
    )
    return rows


def _pct(value: float | None) -> str:
    return "" if value is None else f"{value:.4f}"


def funnel_csv(report: FunnelOut) -> str:
    rows = _group_rows(report, None)
    for g in report.groups:
        rows += _group_rows(g, g.key or "(none)")
    for c in report.costs:
        for stage, count, cost in (
            ("lead", c.leads, c.per_lead),
            ("mql", c.mql, c.per_mql),
            ("sql", c.sql, c.per_sql),
            ("won", c.won, c.per_won),
        ):
            label = f"cost per {stage} (spend {c.spend:.2f})"
            rows.append({"stage": f"cost_per_{stage}", "label": label, "reached": count, "total_value": cost})
            rows[-1]["group"] = c.source
    return to_csv(CSV_HEADER, rows)
