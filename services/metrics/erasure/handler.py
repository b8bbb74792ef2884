"""`person.erased` / `lead.erased` -> metrics forgets the lead's person, keeps its facts.

The fact log (`metrics_events`) and everything folded from it are PII-free by construction
(services/metrics/domain/facts.py keeps source, campaign, product line, stages, times), so every
count and funnel is the same after an erasure. What held the person is `metrics_contacts` (the
dashboard's contact column): the row is deleted. The facts' free text (decision reasons) is
scrubbed of the contact's values too, in case a reason ever quoted one. Replay refolds from the
fact log and never reads or rebuilds contacts, so it cannot bring the person back.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.metrics.erasure.repository import ErasureRepository
from services.metrics.projection.repository import ProjectionRepository
from shared.events import CloudEvent, Event
from shared.logging import get_logger
from shared.privacy import Scrubber, personal_values

log = get_logger(__name__)


class MetricsEraser:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def __call__(self, event: CloudEvent, _: Event) -> bool:
        lead_id = event.subject
        async with self._sessions() as session, session.begin():
            if not await ProjectionRepository(session).claim(event.id):
                return False
            repo = ErasureRepository(session)
            contact = await repo.forget_contact(lead_id) or {}
            values = personal_values(contact)
            if isinstance(contact.get("name"), str):
                values |= {part for part in contact["name"].split() if len(part) > 1}
            facts = await repo.rewrite_fact_details(lead_id, Scrubber(values))
        log.info("lead_erased", lead_id=lead_id, event_type=event.type, contact=bool(contact), facts=facts)
        return True
