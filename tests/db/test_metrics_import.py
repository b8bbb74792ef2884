"""`leadrelay import`: a year of history with its own event times; bad rows reported, never dropped;
re-importing the same file changes nothing; the funnel equals an independent count over the CSV."""

from __future__ import annotations

import csv
import io
from collections import Counter
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.metrics.cli_commands import import_rows
from services.metrics.domain.periods import window
from services.metrics.funnel.service import funnel_report
from services.metrics.importer import parse
from services.metrics.reports.scope import Scope
from services.metrics.synthetic import history
from services.metrics.tables import events

pytestmark = pytest.mark.db

HEADER = [
    "lead_id",
    "event",
    "occurred_at",
    "source",
    "campaign",
    "product_line",
    "rep",
    "team",
    "value",
    "reason",
]
RAW_TO_ROW = {
    "lead.captured": "captured",
    "lead.qualified": "mql",
    "lead.disqualified": "disqualified",
    "lead.nurtured": "nurtured",
    "lead.assigned": "assigned",
}
PATH = ("captured", "mql", "assigned", "accepted", "opportunity_created", "won")


def year_csv(leads: int) -> tuple[str, list[dict[str, str]]]:
    rows = []
    for story in history(leads, seed=9):
        for e in story:
            event = RAW_TO_ROW.get(e.type) or (e.data["kind"] if e.type == "activity.recorded" else None)
            if event is None or event == "stage_changed":
                continue
            d = e.data
            rows.append(
                {
                    "lead_id": e.lead_id,
                    "event": event,
                    "occurred_at": e.time.isoformat(),
                    "source": d.get("source", ""),
                    "campaign": d.get("lead", {}).get("campaign", ""),
                    "product_line": d.get("lead", {}).get("product_line", ""),
                    "rep": d.get("rep_id", ""),
                    "team": d.get("team", ""),
                    "value": "" if d.get("value") is None else str(d["value"]),
                    "reason": d.get("reason", ""),
                }
            )
    bad = [
        {"lead_id": "x1", "event": "teleported", "occurred_at": "2025-01-01T00:00:00Z"},
        {"lead_id": "x2", "event": "captured", "occurred_at": "yesterday"},
        {"lead_id": "x3", "event": "captured", "occurred_at": "2025-01-01T00:00:00"},
        {"lead_id": rows[0]["lead_id"], "event": "mql", "occurred_at": "2024-01-01T00:00:00Z"},
        {"lead_id": "x4", "event": "won", "occurred_at": "2025-05-01T00:00:00Z", "value": "12"},
        {"lead_id": rows[0]["lead_id"], "event": "won", "occurred_at": "2025-12-31T00:00:00Z", "value": "-5"},
    ]
    out = io.StringIO()
    writer = csv.DictWriter(out, HEADER)
    writer.writeheader()
    writer.writerows([*rows, *bad])
    return out.getvalue(), rows


async def test_import_a_year_then_again(sessions: async_sessionmaker[AsyncSession]) -> None:
    text, rows = year_csv(2000)
    first = await import_rows(sessions, parse(io.StringIO(text)))
    reasons = sorted(r.reason.split(" ")[0] for r in first.rejected)
    assert (first.rows, first.imported, first.unchanged) == (len(rows) + 6, len(rows), 0)
    assert len(first.rejected) == 6, first.rejected
    assert reasons == ["bad", "before", "date", "no", "unknown", "value"]
    again = await import_rows(sessions, parse(io.StringIO(text)))
    assert (again.imported, again.unchanged, len(again.rejected)) == (0, len(rows), 6)
    async with sessions() as s:
        assert (await s.execute(select(func.count()).select_from(events))).scalar_one() == len(rows)
        report = await funnel_report(s, Scope(window("all", "UTC", now=datetime(2026, 1, 1, tzinfo=UTC))))
    # Independent: per lead, the furthest of the path events it has in the CSV.
    by_lead: dict[str, set[str]] = {}
    for r in rows:
        by_lead.setdefault(r["lead_id"], set()).add(r["event"])
    furthest = Counter(max(i for i, e in enumerate(PATH) if e in events_) for events_ in by_lead.values())
    expected = {
        "mql": sum(n for i, n in furthest.items() if i >= 1),
        "assigned": sum(n for i, n in furthest.items() if i >= 2),
        "sal": sum(n for i, n in furthest.items() if i >= 3),
        "won": furthest[5],
    }
    reached = {s.stage: s.reached for s in report.steps}
    assert report.total == len(by_lead) == 2000
    assert {k: reached[k] for k in expected} == expected
