"""The dashboard page (`GET /`, server-rendered) and the small JSON/CSV APIs it polls.

Every answer goes through the caller's role: a viewer gets emails, names and phones masked in the
page, the JSON and the CSV alike.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.metrics.auth.access import Viewer, authenticate
from services.metrics.auth.masking import masked
from services.metrics.dashboard.page import render_page
from services.metrics.dashboard.repository import DashboardRepository
from services.metrics.dashboard.service import DashboardConfig, rep_load, sla_board
from services.metrics.reports.csv_output import csv_response, to_csv, wants_csv
from services.metrics.reports.scope import Scope, report_scope
from services.metrics.timeline.service import timeline_report

router = APIRouter(tags=["dashboard"])
Csv = Annotated[bool, Depends(wants_csv)]
ScopeDep = Annotated[Scope, Depends(report_scope)]
CSV_DOC: dict[int | str, dict[str, Any]] = {200: {"content": {"text/csv": {}}}}
BOARD_CSV = ["clock_id", "lead_id", "email", "name", "company", "policy", "team", "rep_id", "status"]
BOARD_CSV += ["due_soon", "breach_at", "business_seconds_left", "escalations", "last_action"]
REPS_CSV = ["team", "rep_id", "name", "active", "weight", "assigned", "share", "expected_share", "deviation"]


def _sessions(request: Request) -> async_sessionmaker[AsyncSession]:
    factory: async_sessionmaker[AsyncSession] = request.app.state.sessions
    return factory


def _config(request: Request) -> DashboardConfig:
    found = getattr(request.app.state, "dashboard", None)
    return found if isinstance(found, DashboardConfig) else DashboardConfig()


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
async def dashboard(request: Request) -> Response:
    principal = await authenticate(request)
    if principal is None:
        return RedirectResponse("/login", status_code=303)
    async with _sessions(request)() as session:
        board = await sla_board(session, _config(request), principal, datetime.now(UTC))
    return HTMLResponse(render_page(principal, board), headers={"Cache-Control": "no-store"})


@router.get("/v1/dashboard/board", responses=CSV_DOC)
async def get_board(request: Request, principal: Viewer, csv: Csv) -> Any:
    """The live SLA board: counts, the most urgent running clocks (business time left), per rep."""
    async with _sessions(request)() as session:
        board = await sla_board(session, _config(request), principal, datetime.now(UTC))
    return csv_response(to_csv(BOARD_CSV, board["clocks"]), "sla-board") if csv else board


@router.get("/v1/dashboard/reps", responses=CSV_DOC)
async def get_reps(request: Request, _: Viewer, scope: ScopeDep, csv: Csv) -> Any:
    """Leads assigned per rep in the cohort vs the share its routing weight promises."""
    async with _sessions(request)() as session:
        rows = await rep_load(session, _config(request), scope.window)
    return (
        csv_response(to_csv(REPS_CSV, rows), "rep-load") if csv else {"scope": scope.describe(), "reps": rows}
    )


@router.get("/v1/dashboard/leads", responses=CSV_DOC)
async def recent_leads(
    request: Request, principal: Viewer, csv: Csv, limit: Annotated[int, Query(ge=1, le=200)] = 20
) -> Any:
    """The latest captured leads (for picking a timeline), contact masked by role."""
    async with _sessions(request)() as session:
        rows = await DashboardRepository(session).recent_leads(limit)
    out = [masked({**r, "captured_at": r["captured_at"].isoformat()}, principal) for r in rows]
    header = ["lead_id", "email", "name", "source", "captured_at", "rep_id"]
    return csv_response(to_csv(header, out), "leads") if csv else out


@router.get("/v1/dashboard/leads/{lead_id}", responses={404: {}})
async def lead_detail(
    request: Request, principal: Viewer, lead_id: Annotated[str, Path(max_length=200)]
) -> dict[str, Any]:
    """One lead's timeline (every decision with its reasons) and its contact, masked by role."""
    async with _sessions(request)() as session:
        report = await timeline_report(session, lead_id)
        contacts = await DashboardRepository(session).contacts_of([lead_id])
    if report is None:
        raise HTTPException(404, detail="no events recorded for this lead")
    contact = contacts.get(lead_id, {"lead_id": lead_id})
    return {"contact": masked(contact, principal), "timeline": report.model_dump(mode="json")}
