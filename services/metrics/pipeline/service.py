"""Pipeline use case: figures per scope and breakdown, coverage against the configured quotas; CSV."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.metrics.domain.fold import ORDER
from services.metrics.domain.pipeline import Opportunity, coverage, figures
from services.metrics.pipeline.repository import StageTimeRow, opportunities, time_in_stage
from services.metrics.pipeline.schemas import (
    CoverageOut,
    FiguresOut,
    PipelineGroupOut,
    PipelineOut,
    StageTimeOut,
)
from services.metrics.reports.csv_output import to_csv
from services.metrics.reports.scope import ReportConfig, Scope


def _stage_times(rows: list[StageTimeRow]) -> list[StageTimeOut]:
    ordered = sorted(rows, key=lambda r: ORDER.get(r.stage, 99))
    return [
        StageTimeOut(
            stage=r.stage,
            leads=r.leads,
            mean_hours=None if r.mean_seconds is None else round(r.mean_seconds / 3600, 3),
        )
        for r in ordered
    ]


def _figures(opps: list[Opportunity], scope: Scope) -> FiguresOut:
    return FiguresOut(**figures(opps, scope.window, scope.as_of).__dict__)


async def pipeline_report(
    session: AsyncSession, scope: Scope, config: ReportConfig | None = None
) -> PipelineOut:
    config = config or ReportConfig()
    opps = await opportunities(session, scope)
    stage_rows = await time_in_stage(session, scope)
    overall_stages: dict[str, tuple[int, float]] = {}
    for r in stage_rows:  # combine group means into the overall mean, weighted by leads
        n, total = overall_stages.get(r.stage, (0, 0.0))
        overall_stages[r.stage] = (n + r.leads, total + (r.mean_seconds or 0.0) * r.leads)
    overall = [StageTimeRow(None, s, n, total / n if n else None) for s, (n, total) in overall_stages.items()]
    quotas = [
        q
        for q in config.quotas
        if scope.filters.get("team", q.team) == q.team and scope.filters.get("rep", q.rep) == q.rep
    ]
    groups = []
    if scope.by:
        keys = sorted(
            {o.group for o in opps} | {r.group for r in stage_rows}, key=lambda k: (k is None, k or "")
        )
        groups = [
            PipelineGroupOut(
                key=k,
                figures=_figures([o for o in opps if o.group == k], scope),
                time_in_stage=_stage_times([r for r in stage_rows if r.group == k]),
            )
            for k in keys
        ]
    return PipelineOut(
        scope=scope.describe(),
        currency=config.reporting.currency,
        figures=_figures(opps, scope),
        time_in_stage=_stage_times(overall),
        coverage=[
            CoverageOut(**c.__dict__) for c in coverage(opps, quotas, scope.window.timezone, scope.as_of)
        ],
        groups=groups,
    )


def pipeline_csv(report: PipelineOut) -> str:
    fields = list(FiguresOut.model_fields)
    rows: list[dict[str, object]] = [{"section": "figures", "group": None, **report.figures.model_dump()}]
    rows += [
        {"section": "figures", "group": g.key or "(none)", **g.figures.model_dump()} for g in report.groups
    ]
    rows += [{"section": "time_in_stage", **t.model_dump()} for t in report.time_in_stage]
    for g in report.groups:
        rows += [
            {"section": "time_in_stage", "group": g.key or "(none)", **t.model_dump()}
            for t in g.time_in_stage
        ]
    rows += [{"section": "coverage", **c.model_dump()} for c in report.coverage]
    header = ["section", "group", *fields, "stage", "leads", "mean_hours", *CoverageOut.model_fields]
    return to_csv(list(dict.fromkeys(header)), rows)
