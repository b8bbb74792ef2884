"""Metrics HTTP API: the reports (JSON, or CSV on request); every one needs credentials (viewer role).

The dashboard page lives in services/metrics/dashboard/, access control in services/metrics/auth/."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Request
from fastapi.responses import PlainTextResponse
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.metrics.auth.access import require_viewer
from services.metrics.funnel.schemas import FunnelOut
from services.metrics.funnel.service import funnel_csv, funnel_report
from services.metrics.pipeline.schemas import PipelineOut
from services.metrics.pipeline.service import pipeline_csv, pipeline_report
from services.metrics.reports.csv_output import csv_response, wants_csv
from services.metrics.reports.scope import ReportConfig, Scope, report_config, report_scope
from services.metrics.response_times.schemas import ResponseTimesOut
from services.metrics.response_times.service import response_times_csv, response_times_report
from services.metrics.timeline.schemas import TimelineOut
from services.metrics.timeline.service import timeline_csv, timeline_report


def _sessions(request: Request) -> async_sessionmaker[AsyncSession]:
    factory: async_sessionmaker[AsyncSession] = request.app.state.sessions
    return factory


async def get_session(
    factory: Annotated[async_sessionmaker[AsyncSession], Depends(_sessions)],
) -> AsyncIterator[AsyncSession]:
    async with factory() as session:
        yield session


Session = Annotated[AsyncSession, Depends(get_session)]
ScopeDep = Annotated[Scope, Depends(report_scope)]
Config = Annotated[ReportConfig, Depends(report_config)]
Csv = Annotated[bool, Depends(wants_csv)]
CSV_DOC: dict[int | str, dict[str, Any]] = {200: {"content": {"text/csv": {}}}}

router = APIRouter(
    dependencies=[Depends(require_viewer)],
    responses={401: {"description": "Sign in, or send an API key (X-API-Key)"}},
)


@router.get("/v1/funnel", response_model=FunnelOut, responses=CSV_DOC)
async def get_funnel(
    session: Session, scope: ScopeDep, config: Config, csv: Csv
) -> FunnelOut | PlainTextResponse:
    """Leads reached per stage for a capture cohort, step conversion, dollar funnel, cost per stage."""
    report = await funnel_report(session, scope, config)
    return csv_response(funnel_csv(report), "funnel") if csv else report


@router.get("/v1/pipeline", response_model=PipelineOut, responses=CSV_DOC)
async def get_pipeline(
    session: Session, scope: ScopeDep, config: Config, csv: Csv
) -> PipelineOut | PlainTextResponse:
    """Win rate, deal size, cycle length, velocity, coverage vs quota, slippage, time in stage."""
    report = await pipeline_report(session, scope, config)
    return csv_response(pipeline_csv(report), "pipeline") if csv else report


@router.get("/v1/response-times", response_model=ResponseTimesOut, responses=CSV_DOC)
async def get_response_times(
    session: Session, scope: ScopeDep, config: Config, csv: Csv
) -> ResponseTimesOut | PlainTextResponse:
    """Speed to lead P50/P90/P99, SLA bands and compliance; system delay and rep delay apart."""
    report = await response_times_report(session, scope, config)
    return csv_response(response_times_csv(report), "response-times") if csv else report


@router.get("/v1/leads/{lead_id}/timeline", response_model=TimelineOut, responses=CSV_DOC | {404: {}})
async def get_timeline(
    session: Session, lead_id: Annotated[str, Path(max_length=200)], csv: Csv
) -> TimelineOut | PlainTextResponse:
    """Every stage and every routing decision of one lead, with its reasons, on event time."""
    report = await timeline_report(session, lead_id)
    if report is None:
        raise HTTPException(404, detail="no events recorded for this lead")
    return csv_response(timeline_csv(report), "timeline") if csv else report
