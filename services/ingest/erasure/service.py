"""Erase one person, found by email: publish `person.erased` for each of their leads, then erase
ingest's own copies (the journaled capture bodies, the email index).

Publish first, then erase locally: if the broker refuses (503), nothing changed and a retry finds
the same leads; if the local erasure fails after the publish, a retry finds them again and
publishes again (consumers erase idempotently). The other order could lose an erasure: the index
gone, so a retry finds nothing, while downstream never heard of it.

What ingest holds about a person, and what happens to it:
- `ingest_leads_by_email`: SHA-256 of the address -> lead ids. Deleted.
- `ingest_journal`: the published events, kept for the republish window. The person's
  `lead.captured` bodies are rewritten with the personal fields erased (shared/privacy.py), so a
  republish after a broker reset sends the erased form, followed by the journaled erasure events.
- `ingest_delivery_ledger`: source, delivery key, body hash, event and lead ids; no personal field.
  Kept: it is what answers a sender's retry with the original ids instead of a second lead.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.ingest.erasure.repository import ErasureRepository
from services.ingest.journal import Journal
from services.ingest.lead_index import email_hash
from services.ingest.observability import ERASED_LEADS, ERASURES
from shared.events import CloudEvent, PersonErased, Topics, new_event_id, stable_id
from shared.kafka import EventProducer
from shared.kafka.producer import OutgoingMessage
from shared.logging import get_logger
from shared.privacy import erase_event, pseudonym_email

log = get_logger(__name__)
EVENT_SOURCE = "leadrelay/ingest"


@dataclass(frozen=True)
class ErasureReceipt:
    erasure_id: str
    lead_ids: tuple[str, ...]
    event_ids: tuple[str, ...]
    journal_entries: int


class ErasureService:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        producer: EventProducer,
        topics: Topics,
        journal: Journal | None = None,
    ) -> None:
        self._sessions = sessions
        self._producer = producer
        self._topics = topics
        self._journal = journal

    async def erase(self, email: str) -> ErasureReceipt:
        hashed = email_hash(email)
        erasure_id, now = new_event_id(), datetime.now(UTC)
        async with self._sessions() as session:
            lead_ids = tuple(await ErasureRepository(session).index.lead_ids(hashed))
        messages = [self._event(erasure_id, lead_id, now) for lead_id in lead_ids]
        if messages:
            await self._producer.publish_many([m for _, m in messages])  # acknowledged, in order
        if self._journal is not None:
            for event_id, message in messages:  # a republish after a broker reset sends them too
                await self._journal.append(event_id, message)
        pseudonym = pseudonym_email(erasure_id)
        values = {email.strip(), email.strip().lower()}
        async with self._sessions() as session, session.begin():
            repo = ErasureRepository(session)
            rewritten = await repo.rewrite_journal(lead_ids, lambda raw: erase_event(raw, values, pseudonym))
            await repo.index.forget(hashed)
        ERASURES.inc()
        ERASED_LEADS.inc(len(lead_ids))
        log.info("person_erased", erasure_id=erasure_id, leads=len(lead_ids), journal_entries=rewritten)
        return ErasureReceipt(erasure_id, lead_ids, tuple(e for e, _ in messages), rewritten)

    def _event(self, erasure_id: str, lead_id: str, now: datetime) -> tuple[str, OutgoingMessage]:
        event_id = stable_id("person.erased", erasure_id, lead_id)
        payload = PersonErased(erasure_id=erasure_id, requested_at=now)
        envelope = CloudEvent.wrap(payload, subject=lead_id, source=EVENT_SOURCE, time=now, event_id=event_id)
        return event_id, OutgoingMessage(self._topics.lead_events, lead_id.encode(), envelope.to_bytes())
