"""Ingest use cases: map a request to its event, publish with a durable ack, remember the delivery.

Order matters: publish first, then remember. A crash in between means the client never
got its 202 and retries; the retry derives the same event id from its idempotency key,
so downstream consumers (which dedupe on event id) see one event.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.ingest.repository import DeliveryRepository
from services.ingest.schemas import ActivityIn, LeadIn
from shared.events import ActivityRecorded, CloudEvent, Event, LeadCaptured, Topics, new_event_id
from shared.kafka import EventProducer
from shared.kafka.producer import OutgoingMessage
from shared.logging import get_logger

log = get_logger(__name__)

EVENT_SOURCE = "leadrelay/ingest"


@dataclass(frozen=True)
class Receipt:
    event_id: str
    lead_id: str
    replayed: bool  # True: a repeated delivery, answered with the original ids and no new event


def _stable_id(*parts: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "leadrelay:" + ":".join(parts)))


class IngestService:
    def __init__(
        self, producer: EventProducer, sessions: async_sessionmaker[AsyncSession], topics: Topics
    ) -> None:
        self._producer = producer
        self._sessions = sessions
        self._topics = topics

    async def capture_lead(self, body: LeadIn, source: str, delivery_key: str | None) -> Receipt:
        if delivery_key and (seen := await self._seen(source, delivery_key)):
            return seen
        now = datetime.now(UTC)
        lead_id = body.lead_id or (
            _stable_id("lead", source, delivery_key) if delivery_key else str(uuid.uuid4())
        )
        event = LeadCaptured(lead=body.lead(), source=source, received_at=now)
        return await self._publish(event, lead_id, body.occurred_at or now, source, delivery_key)

    async def record_activity(self, body: ActivityIn, source: str, delivery_key: str | None) -> Receipt:
        if delivery_key and (seen := await self._seen(source, delivery_key)):
            return seen
        event = ActivityRecorded(kind=body.kind, rep_id=body.rep_id, reason=body.reason, amount=body.amount)
        return await self._publish(
            event, body.lead_id, body.occurred_at or datetime.now(UTC), source, delivery_key
        )

    async def _seen(self, source: str, key: str) -> Receipt | None:
        async with self._sessions() as session:
            found = await DeliveryRepository(session).find(source, key)
        return Receipt(found[0], found[1], replayed=True) if found else None

    async def _publish(
        self, event: Event, lead_id: str, time: datetime, source: str, delivery_key: str | None
    ) -> Receipt:
        event_id = _stable_id("event", source, delivery_key) if delivery_key else new_event_id()
        envelope = CloudEvent.wrap(event, subject=lead_id, source=EVENT_SOURCE, time=time, event_id=event_id)
        await self._producer.publish(
            OutgoingMessage(self._topics.lead_events, lead_id.encode(), envelope.to_bytes())
        )
        if delivery_key:
            try:
                async with self._sessions() as session, session.begin():
                    await DeliveryRepository(session).remember(source, delivery_key, event_id, lead_id)
            except SQLAlchemyError as exc:
                # The event is durable already: still a 202. A retry republishes the same event id,
                # which consumers deduplicate, so nothing is counted twice.
                log.warning("delivery_not_remembered", event_id=event_id, lead_id=lead_id, error=repr(exc))
        return Receipt(event_id, lead_id, replayed=False)
