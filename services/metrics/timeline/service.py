"""Timeline use case: facts in event-time order, each with what it did and why; CSV."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.metrics.domain.facts import Fact
from services.metrics.reports.csv_output import to_csv
from services.metrics.timeline.repository import lead_facts, lead_row, stage_rows
from services.metrics.timeline.schemas import StageOut, TimelineEntryOut, TimelineOut

DECISIONS: tuple[str, ...] = ("lead.qualified", "lead.disqualified", "lead.nurtured", "lead.assigned")
DECISIONS += ("lead.queued", "lead.reassigned", "lead.recycled")


def _category(fact: Fact) -> str:
    if fact.type == "lead.captured":
        return "capture"
    if fact.type in DECISIONS:
        return "decision"
    if fact.type.startswith("sla."):
        return "sla"
    return "sales"


def _entry(fact: Fact) -> TimelineEntryOut:
    detail = {k: v for k, v in fact.detail.items() if k != "reasons"}
    return TimelineEntryOut(
        at=fact.occurred_at,
        event_id=fact.event_id,
        type=fact.type,
        category=_category(fact),
        stages=list(fact.stages),
        team=fact.team,
        rep_id=fact.rep_id,
        reason=fact.reason,
        value=fact.value,
        expected_close=fact.expected_close,
        reasons=list(fact.detail.get("reasons", [])),
        detail=detail,
    )


async def timeline_report(session: AsyncSession, lead_id: str) -> TimelineOut | None:
    facts = await lead_facts(session, lead_id)
    if not facts:
        return None
    row = await lead_row(session, lead_id) or {}
    stages = [
        StageOut(
            stage=s["stage"],
            first_at=s["first_at"],
            last_at=s["last_at"],
            entries=s["entries"],
            hours_in_stage=None if s["seconds"] is None else round(s["seconds"] / 3600, 4),
        )
        for s in await stage_rows(session, lead_id)
    ]
    return TimelineOut(
        lead_id=lead_id,
        **{k: row.get(k) for k in ("source", "campaign", "product_line", "team", "rep_id", "deal_value")},
        stages=stages,
        entries=[_entry(f) for f in facts],
    )


def timeline_csv(report: TimelineOut) -> str:
    header = ["at", "type", "category", "stages", "team", "rep_id", "reason", "value", "reasons"]
    rows = [
        e.model_dump()
        | {
            "stages": " ".join(e.stages),
            "reasons": "; ".join(f"{r['code']}: {r['message']}" for r in e.reasons),
        }
        for e in report.entries
    ]
    return to_csv(header, rows)
