"""The deliverer's consumer handlers: a poll's records stored in one transaction, before the offset.

Handoff events become messages (queued, deduplicated by id); `lead.captured`, `lead.qualified`
and `sla.started` feed the small lead cache notifications read (who, company, score, deadline).
The handlers only write rows: sending happens in the dispatcher, so a slow CRM never holds the
consumer, and the consumer never holds the router (its own group).

A batch is one partition's records in offset order; their messages are inserted in that order,
so the queue's ids keep each lead's order (the dispatcher sends a lead's messages by id). The
one-record handler is the same code with a batch of one (the consumer loop falls back to it
when a batch fails, to retry or dead-letter just the bad record).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.delivery.clock import Clock
from services.delivery.planner import Planner
from services.delivery.repository import DeliveryRepository, NewMessage
from shared.dispatch import decode
from shared.events import CloudEvent, Event, LeadCaptured, LeadQualified, SlaStarted
from shared.kafka import Delivery
from shared.kafka.records import BatchHandler, Handler


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


@dataclass
class _Pending:
    """What a batch has planned: messages in order, lead facts merged per lead."""

    messages: list[NewMessage] = field(default_factory=list)
    leads: dict[str, dict[str, Any]] = field(default_factory=dict)

    def remember(self, lead_id: str, values: dict[str, Any]) -> None:
        current = self.leads.setdefault(lead_id, {})
        if "facts" in values:  # merge: score and deadline arrive from different events
            values = {**values, "facts": {**current.get("facts", {}), **values["facts"]}}
        current.update(values)

    async def write(self, repo: DeliveryRepository, now: datetime) -> None:
        for lead_id, values in sorted(self.leads.items()):  # a fixed lock order across consumers
            await _remember(repo, lead_id, values, now)
        if self.messages:
            disabled = await repo.disabled_targets()
            await repo.enqueue(
                [
                    replace(m, status="dead", last_error="target disabled; replay to enable it")
                    if m.target in disabled
                    else m
                    for m in self.messages
                ],
                now,
            )


def delivery_handlers(
    sessions: async_sessionmaker[AsyncSession],
    planner: Planner,
    clock: Clock,
    on_commit: Callable[[], None],
) -> tuple[Handler, BatchHandler]:
    """(one record, a poll batch): both store in one transaction, then wake the dispatcher."""

    async def store(deliveries: Sequence[Delivery]) -> None:
        now = clock.now()
        pending = _Pending()
        for delivery in deliveries:
            decoded = decode(delivery.value)  # bad bytes raise PermanentError: one by one then
            if decoded is None or delivery.value is None:
                continue
            event, payload = decoded
            pending.messages += planner.plan(event, payload, delivery.value, now)
            facts = lead_facts(event, payload)
            if facts is not None:
                pending.remember(event.subject, facts)
        if not pending.messages and not pending.leads:
            return
        async with sessions() as session, session.begin():
            await pending.write(DeliveryRepository(session), now)
        if pending.messages:
            on_commit()

    async def one(delivery: Delivery) -> None:
        await store([delivery])

    return one, store


def delivery_handler(
    sessions: async_sessionmaker[AsyncSession],
    planner: Planner,
    clock: Clock,
    on_commit: Callable[[], None],
) -> Handler:
    """The one-record handler alone (tests that drive records one at a time)."""
    return delivery_handlers(sessions, planner, clock, on_commit)[0]


async def _remember(repo: DeliveryRepository, lead_id: str, values: dict[str, Any], now: datetime) -> None:
    if "facts" in values:  # merge with what is stored: the batch's facts are newer
        current = await repo.lead(lead_id)
        merged = {**((current or {}).get("facts") or {}), **values["facts"]}
        values = {**values, "facts": merged}
    await repo.remember_lead(lead_id, values, now)
