"""The metrics write side: events → facts → the fact log, folded per lead on event time.

The live consumer, `leadrelay import` and `leadrelay replay` all go through `project_facts`
(same code, same result)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.metrics.domain.facts import Fact, fact_from_event
from services.metrics.projection.repository import ProjectionRepository
from shared.events import CloudEvent, Event
from shared.logging import get_logger

log = get_logger(__name__)

__all__ = ["Projector", "project_facts"]


async def project_facts(session: AsyncSession, facts: Sequence[Fact]) -> int:
    """Store the facts and refold the leads that got new ones; returns how many facts were new.

    Runs inside the caller's transaction."""
    repo = ProjectionRepository(session)
    await repo.lock([f.lead_id for f in facts])
    new = await repo.record(facts)
    if new:
        await repo.refold(list(dict.fromkeys(f.lead_id for f in new)))
    return len(new)


class Projector:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def __call__(self, event: CloudEvent, payload: Event) -> bool:
        """Project one event; False when metrics has no use for it or it was already projected."""
        fact = fact_from_event(event, payload)
        if fact is None:
            return False
        async with self._sessions() as session, session.begin():
            if not await ProjectionRepository(session).claim(event.id):
                return False
            await project_facts(session, [fact])
        log.debug("fact_recorded", lead_id=event.subject, event_id=event.id, stages=list(fact.stages))
        return True
