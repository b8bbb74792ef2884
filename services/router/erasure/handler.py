"""`person.erased` -> the router forgets the person, then tells handoffs consumers (`lead.erased`).

In one transaction: claim the event (inbox), find the person's identity keys and every lead they
came in with, scrub their decision records and their events in the outbox (pending ones leave
erased), delete their profiles, and queue one `lead.erased` per lead on handoffs, keyed by the lead
so it follows that lead's earlier handoffs on their partition. The profile is the person's
merged record: deleting it means a later form from the same address starts a new person, which is
what erasure asks for. Counters, rotation, owners and SLA clocks hold no personal field and stay.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.router.domain.record import EVENT_SOURCE
from services.router.erasure.repository import ErasureRepository
from services.router.repository import RouterRepository
from shared.events import CloudEvent, LeadErased, PersonErased, Topics, stable_id
from shared.logging import get_logger
from shared.privacy import Scrubber, erase_event, personal_values, pseudonym_email

log = get_logger(__name__)


class PersonErasedHandler:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], topics: Topics, on_commit: Callable[[], None]
    ) -> None:
        self._sessions = sessions
        self._topics = topics
        self._on_commit = on_commit

    async def __call__(self, event: CloudEvent, erased: PersonErased) -> bool:
        now = datetime.now(UTC)
        async with self._sessions() as session, session.begin():
            if not await RouterRepository(session).claim(event.id):
                return False
            repo = ErasureRepository(session)
            keys = await repo.profile_keys(event.subject)
            values: set[str] = {key.partition(":")[2] for key in keys}
            for fields in await repo.lock_profiles(keys):
                values |= personal_values(fields)
            lead_ids = sorted({event.subject, *await repo.lead_ids_of(keys)})
            pseudonym = pseudonym_email(erased.erasure_id)
            decisions = await repo.rewrite_decisions(lead_ids, Scrubber(values))
            events = await repo.rewrite_outbox(lead_ids, lambda raw: erase_event(raw, values, pseudonym))
            profiles = await repo.forget_profiles(keys)
            follow = LeadErased(erasure_id=erased.erasure_id, requested_at=erased.requested_at, erased_at=now)
            await RouterRepository(session).enqueue(
                self._topics.handoffs,
                [
                    CloudEvent.wrap(
                        follow,
                        subject=lead_id,
                        source=EVENT_SOURCE,
                        time=now,
                        event_id=stable_id(event.id, "lead.erased", lead_id),
                        traceparent=event.traceparent,
                    )
                    for lead_id in lead_ids
                ],
            )
        self._on_commit()
        log.info(
            "lead_erased",
            lead_id=event.subject,
            erasure_id=erased.erasure_id,
            leads=len(lead_ids),
            profiles=profiles,
            decisions=decisions,
            outbox_events=events,
        )
        return True
