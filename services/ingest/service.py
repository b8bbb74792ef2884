"""Ingest use cases: map a request to its event, publish with a durable ack, remember the delivery.

Order matters: publish first, then remember. A crash in between means the client never
got its 202 and retries; the retry derives the same event id from its delivery key,
so downstream consumers (which dedupe on event id) see one event.

A delivery key (Idempotency-Key, webhook id, vendor event id) is scoped by source and by
endpoint: the same key on `/v1/leads` and `/v1/activities` names two different deliveries.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

from services.ingest.journal import Journal
from services.ingest.lead_index import LeadIndex, email_hash
from services.ingest.ledger import DeliveryLedger
from services.ingest.repository import DATABASE_DOWN, DeliveryKey, RememberedDelivery
from services.ingest.schemas import ActivityIn
from shared.events import (
    ActivityRecorded,
    CloudEvent,
    Event,
    LeadCaptured,
    LeadData,
    Topics,
    new_event_id,
    stable_id,
)
from shared.events.ids import random_id
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


@dataclass(frozen=True)
class DeliveryRef:
    """What makes a request a repeat: the sender's key (if any) and the exact body it sent."""

    key: str | None
    body_hash: str

    @classmethod
    def of(cls, key: str | None, raw_body: bytes) -> DeliveryRef:
        # Without a key there is nothing to compare the body with later: skip the hash.
        return cls(key, hashlib.sha256(raw_body).hexdigest() if key else "")


class LeadNotFound(Exception):
    """An activity addressed by an email no captured lead has."""


class IdempotencyConflict(Exception):
    """A delivery key reused with a different body: a client bug, never silently merged."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


class IngestService:
    def __init__(
        self,
        producer: EventProducer,
        ledger: DeliveryLedger,
        topics: Topics,
        journal: Journal | None = None,
        leads: LeadIndex | None = None,
    ) -> None:
        self._producer = producer
        self._ledger = ledger
        self._topics = topics
        self._journal = journal
        self._leads = leads

    async def capture_lead(
        self,
        lead: LeadData,
        source: str,
        delivery: DeliveryRef,
        *,
        lead_id: str | None = None,
        occurred_at: datetime | None = None,
    ) -> Receipt:
        """Publish `lead.captured` for a validated lead (a `LeadIn`, or a form tool's mapped lead with
        its `LeadRef` fields), under `lead_id` if given."""
        key = self._key(source, "lead", delivery)
        if key and (seen := await self._seen(key, delivery)):
            return seen
        now = datetime.now(UTC)
        lead_id = lead_id or (stable_id("lead", key.source, key.scope, key.key) if key else random_id())
        # The lead as validated, a LeadIn included: pydantic serialises a field by its declared
        # type, so the event's bytes are the same without a second validation
        # (tests/unit/test_ingest_hot_path.py).
        event = LeadCaptured(lead=lead, source=source, received_at=now)
        person = (email_hash(lead.email), lead_id)
        receipt = await self._publish(event, lead_id, occurred_at or now, key, delivery, person)
        if self._leads is not None and self._journal is None:  # with a journal, it wrote the index too
            try:
                await self._leads.remember(lead.email, lead_id)
            except DATABASE_DOWN as exc:  # acknowledged already; only addressing by email suffers
                log.warning("lead_index_not_updated", lead_id=lead_id, error=repr(exc))
        return receipt

    async def record_activity(self, body: ActivityIn, source: str, delivery: DeliveryRef) -> Receipt:
        key = self._key(source, "activity", delivery)
        if key and (seen := await self._seen(key, delivery)):
            return seen
        lead_id = body.lead_id or await self._lead_for(body.email)
        event = ActivityRecorded(**body.model_dump(exclude={"lead_id", "email", "occurred_at"}))
        return await self._publish(event, lead_id, body.occurred_at or datetime.now(UTC), key, delivery)

    async def _lead_for(self, email: str | None) -> str:
        found = await self._leads.find(email) if self._leads is not None and email else None
        if found is None:
            raise LeadNotFound()
        return found

    @staticmethod
    def _key(source: str, scope: str, delivery: DeliveryRef) -> DeliveryKey | None:
        return DeliveryKey(source, scope, delivery.key) if delivery.key else None

    async def _seen(self, key: DeliveryKey, delivery: DeliveryRef) -> Receipt | None:
        try:
            found = await self._ledger.find(key)
        except DATABASE_DOWN as exc:
            # The idempotency store is down: accept anyway. The event id derives from the key,
            # so if this was a repeat, consumers drop the copy; a lead is never lost for it.
            log.warning("delivery_lookup_failed", scope=key.scope, error=repr(exc))
            return None
        if found is None:
            return None
        if found.body_hash != delivery.body_hash:
            raise IdempotencyConflict(key.key)
        return Receipt(found.event_id, found.lead_id, replayed=True)

    async def _publish(
        self,
        event: Event,
        lead_id: str,
        time: datetime,
        key: DeliveryKey | None,
        delivery: DeliveryRef,
        person: tuple[str, str] | None = None,
    ) -> Receipt:
        event_id = stable_id("event", key.source, key.scope, key.key) if key else new_event_id()
        value = CloudEvent.encode(event, subject=lead_id, source=EVENT_SOURCE, time=time, event_id=event_id)
        message = OutgoingMessage(self._topics.lead_events, lead_id.encode(), value)
        await self._producer.publish(message)
        remembered = None
        if key:
            remembered = (key, RememberedDelivery(delivery.body_hash, event_id, lead_id, datetime.now(UTC)))
        if self._journal is not None:
            if remembered is not None:
                self._ledger.note(*remembered)  # repeats answer 200 from memory at once
            try:
                # One transaction: the journal entry, the email index entry, the ledger entry.
                await self._journal.append(event_id, message, person, remembered)
            except DATABASE_DOWN as exc:
                # Acknowledged by the broker already; only a later broker reset could lose it now.
                # A retry after a restart republishes the same event id, which consumers drop.
                log.warning("journal_append_failed", event_id=event_id, error=repr(exc))
        elif remembered is not None:
            try:
                await self._ledger.remember(*remembered)
            except DATABASE_DOWN as exc:
                # The event is durable already: still a 202. A retry republishes the same event id,
                # which consumers deduplicate, so nothing is counted twice.
                log.warning("delivery_not_remembered", event_id=event_id, lead_id=lead_id, error=repr(exc))
        return Receipt(event_id, lead_id, replayed=False)
