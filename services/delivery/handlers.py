"""The deliverer's consumer handler: one transaction per event, committed before the offset.

Handoff events become messages (queued, deduplicated by id); `lead.captured`, `lead.qualified`
and `sla.started` feed the small lead cache notifications read (who, company, score, deadline).
The handler only writes rows: sending happens in the dispatcher, so a slow CRM never holds the
consumer, and the consumer never holds the router (its own group).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.delivery.clock import Clock
from services.delivery.planner import Planner
from services.delivery.repository import DeliveryRepository
from shared.dispatch import decode
from shared.events import CloudEvent, Event, LeadCaptured, LeadQualified, SlaStarted
from shared.kafka import Delivery

Handler = Callable[[Delivery], Any]


def score_of(reasons: list[Any]) -> float | None:
    """A lead score, if some reason carries one in its detail (the router's scoring step)."""
    for reason in reasons:
        for key in ("score", "total_score", "fit_score"):
            value = reason.detail.get(key)
            if isinstance(value, int | float) and not isinstance(value, bool):
                return float(value)
    return None


def lead_facts(event: CloudEvent, payload: Event) -> dict[str, Any] | None:
    """What the lead cache keeps from this event (None: nothing)."""
    if isinstance(payload, LeadCaptured):
        lead = payload.lead
        person = {"first_name": lead.first_name, "last_name": lead.last_name, "company": lead.company}
        return {"source": payload.source, "person": person}
    if isinstance(payload, LeadQualified):
        score = score_of(list(payload.reasons))
        return {"facts": {"score": score}} if score is not None else None
    if isinstance(payload, SlaStarted):
        return {"facts": {"breach_at": payload.breach_at.isoformat(), "sla_timezone": payload.timezone}}
    return None


def delivery_handler(
    sessions: async_sessionmaker[AsyncSession],
    planner: Planner,
    clock: Clock,
    on_commit: Callable[[], None],
) -> Callable[[Delivery], Any]:
    async def handle(delivery: Delivery) -> None:
        decoded = decode(delivery.value)
        if decoded is None or delivery.value is None:
            return
        event, payload = decoded
        now = clock.now()
        planned = planner.plan(event, payload, delivery.value, now)
        facts = lead_facts(event, payload)
        if not planned and facts is None:
            return
        async with sessions() as session, session.begin():
            repo = DeliveryRepository(session)
            if facts is not None:
                await _remember(repo, event.subject, facts, now)
            if planned:
                disabled = await repo.disabled_targets()
                planned = [
                    replace(m, status="dead", last_error="target disabled; replay to enable it")
                    if m.target in disabled
                    else m
                    for m in planned
                ]
                await repo.enqueue(planned, now)
        if planned:
            on_commit()

    return handle


async def _remember(repo: DeliveryRepository, lead_id: str, values: dict[str, Any], now: Any) -> None:
    if "facts" in values:  # merge: score and deadline arrive from different events
        current = await repo.lead(lead_id)
        merged = {**((current or {}).get("facts") or {}), **values["facts"]}
        values = {**values, "facts": merged}
    await repo.remember_lead(lead_id, values, now)
