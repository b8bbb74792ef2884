"""SQL every report repository shares: which rows a scope selects, and the breakdown column."""

from __future__ import annotations

from sqlalchemy import ColumnElement

from services.metrics.reports.scope import Scope
from services.metrics.tables import leads

DIMENSION_COLUMNS = {
    "source": leads.c.source,
    "campaign": leads.c.campaign,
    "product_line": leads.c.product_line,
    "team": leads.c.team,
    "rep": leads.c.rep_id,
}


def filters_where(scope: Scope) -> list[ColumnElement[bool]]:
    return [DIMENSION_COLUMNS[name] == value for name, value in scope.filters.items()]


def cohort_where(scope: Scope) -> list[ColumnElement[bool]]:
    """Leads whose entry (capture, event time) falls in the window, matching the filters."""
    clauses = filters_where(scope)
    if scope.window.start is not None:
        clauses.append(leads.c.captured_at >= scope.window.start)
    if scope.window.end is not None:
        clauses.append(leads.c.captured_at < scope.window.end)
    return clauses
