"""Response-times use case: the total and one summary per breakdown value; CSV."""

from __future__ import annotations

from dataclasses import asdict

from sqlalchemy.ext.asyncio import AsyncSession

from services.metrics.domain.response_times import summarize
from services.metrics.reports.csv_output import to_csv
from services.metrics.reports.scope import ReportConfig, Scope
from services.metrics.response_times.repository import TOTAL, response_summaries
from services.metrics.response_times.schemas import ResponseGroupOut, ResponseTimesOut


async def response_times_report(
    session: AsyncSession, scope: Scope, config: ReportConfig | None = None
) -> ResponseTimesOut:
    target = (config or ReportConfig()).reporting.speed_to_lead_target_minutes
    found = await response_summaries(session, scope, target)
    total = found.pop(TOTAL, None) or summarize([], target)
    keys = sorted(found, key=lambda k: (k is None, k or ""))
    return ResponseTimesOut(
        scope=scope.describe(),
        key=None,
        **asdict(total),
        groups=[ResponseGroupOut(key=k, **asdict(found[k])) for k in keys],
    )


_MEASURES = ("speed_to_lead", "system_delay", "rep_delay")


def _row(g: ResponseGroupOut, key: str | None) -> dict[str, object]:
    row: dict[str, object] = {"group": key}
    for m in _MEASURES:
        for stat, value in getattr(g, m).model_dump().items():
            row[f"{m}_{stat}"] = value
    row |= {f"band_{k}": n for k, n in g.bands.items()}
    return row | {k: getattr(g, k) for k in ("sla_met", "sla_breached", "sla_compliance", "within_target")}


def response_times_csv(report: ResponseTimesOut) -> str:
    rows = [_row(report, None), *(_row(g, g.key or "(none)") for g in report.groups)]
    return to_csv(list(rows[0]), rows)
