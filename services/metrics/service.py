"""Metrics use cases: read models over the report repository, no SQL here."""

from __future__ import annotations

import csv
import io

from sqlalchemy.ext.asyncio import AsyncSession

from services.metrics.domain.funnel import build_funnel
from services.metrics.repository import ReportRepository
from services.metrics.schemas import FunnelFilters, FunnelOut, FunnelStepOut


async def funnel_report(session: AsyncSession, f: FunnelFilters) -> FunnelOut:
    repo = ReportRepository(session)
    funnel = build_funnel(await repo.count_by_furthest_rank(f), await repo.count_exits(f))
    return FunnelOut(
        filters=f,
        total=funnel.total,
        steps=[FunnelStepOut(**step.__dict__) for step in funnel.steps],
        exits=funnel.exits,
        queued=await repo.count_queued(f),
    )


def funnel_csv(report: FunnelOut) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["stage", "label", "reached", "conversion_from_previous", "conversion_from_start"])
    for s in report.steps:
        writer.writerow(
            [s.stage, s.label, s.reached, _blank(s.conversion_from_previous), _blank(s.conversion_from_start)]
        )
    for stage, count in report.exits.items():
        writer.writerow([stage, f"exit: {stage}", count, "", ""])
    writer.writerow(["queued", "hold: queued (no owner yet)", report.queued, "", ""])
    return out.getvalue()


def _blank(value: float | None) -> str:
    return "" if value is None else f"{value:.4f}"
