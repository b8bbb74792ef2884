"""Metrics HTTP API: funnel (JSON or CSV) and the ops dashboard page."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time
from functools import cache
from importlib.resources import files
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, PlainTextResponse
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.metrics.schemas import FunnelFilters, FunnelOut
from services.metrics.service import funnel_csv, funnel_report


def _sessions(request: Request) -> async_sessionmaker[AsyncSession]:
    factory: async_sessionmaker[AsyncSession] = request.app.state.sessions
    return factory


async def get_session(
    factory: Annotated[async_sessionmaker[AsyncSession], Depends(_sessions)],
) -> AsyncIterator[AsyncSession]:
    async with factory() as session:
        yield session


Session = Annotated[AsyncSession, Depends(get_session)]


def _as_utc(value: datetime | date | None, field: str) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, datetime):
        return datetime.combine(value, time.min, tzinfo=UTC)
    if value.tzinfo is None:
        raise HTTPException(
            422,
            detail=[
                {
                    "loc": ["query", field],
                    "msg": "datetime needs a time zone (Z or +hh:mm)",
                    "type": "value_error",
                }
            ],
        )
    return value.astimezone(UTC)


def funnel_filter(
    captured_from: Annotated[
        datetime | date | None, Query(alias="from", description="cohort start (inclusive)")
    ] = None,
    captured_to: Annotated[
        datetime | date | None, Query(alias="to", description="cohort end (exclusive)")
    ] = None,
    source: Annotated[str | None, Query(max_length=200)] = None,
) -> FunnelFilters:
    return FunnelFilters(
        captured_from=_as_utc(captured_from, "from"), captured_to=_as_utc(captured_to, "to"), source=source
    )


router = APIRouter()


@router.get("/v1/funnel", response_model=FunnelOut, responses={200: {"content": {"text/csv": {}}}})
async def get_funnel(
    session: Session,
    filters: Annotated[FunnelFilters, Depends(funnel_filter)],
    format: Annotated[Literal["json", "csv"], Query()] = "json",
) -> FunnelOut | PlainTextResponse:
    """Leads reached per stage of the main path, with step conversion, for a capture cohort."""
    report = await funnel_report(session, filters)
    if format == "csv":
        return PlainTextResponse(
            funnel_csv(report),
            media_type="text/csv",
            headers={"Content-Disposition": 'attachment; filename="funnel.csv"'},
        )
    return report


@cache
def _page() -> str:
    """The dashboard is a static page: read it once, on first request."""
    return files("services.metrics").joinpath("dashboard.html").read_text()


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
async def dashboard() -> HTMLResponse:
    return HTMLResponse(_page())
