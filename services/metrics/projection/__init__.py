"""The metrics write side: events → facts → the fact log, folded per lead on event time.

The live consumer, `leadrelay import` and `leadrelay replay` all go through `project_facts`
(same code, same result). The live consumer projects a poll's events in one transaction
(`Projector.project_many`): one inbox claim, one lock, one refold per lead, one commit; a lone
event goes through `Projector.__call__`, which is the same steps for one."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

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


# Extra read-model writes of one event (the dashboard's live tables), in the projection's transaction.
LiveUpdate = Callable[[AsyncSession, CloudEvent, Event], Awaitable[None]]


class Projector:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        live: LiveUpdate | None = None,
        live_wants: Callable[[Event], bool] = lambda _: False,
    ) -> None:
        self._sessions = sessions
        self._live = live
        self._live_wants = live_wants

    async def __call__(self, event: CloudEvent, payload: Event) -> bool:
        """Project one event; False when metrics has no use for it or it was already projected."""
        fact = fact_from_event(event, payload)
        live = self._live if self._live is not None and self._live_wants(payload) else None
        if fact is None and live is None:
            return False
        async with self._sessions() as session, session.begin():
            if not await ProjectionRepository(session).claim(event.id):
                return False
            if fact is not None:
                await project_facts(session, [fact])
            if live is not None:
                await live(session, event, payload)
        log.debug("event_projected", lead_id=event.subject, event_id=event.id, fact=fact is not None)
        return True

    async def project_many(self, events: Sequence[tuple[CloudEvent, Event]]) -> int:
        """Project a poll's events in one transaction; returns how many were new.

        The same result as one call per event: facts are folded on event time (arrival order
        does not matter), the inbox dedupes redeliveries (within the batch too), and the live
        updates run in the events' order. If anything fails, nothing is stored."""
        todo: dict[str, tuple[CloudEvent, Event, Fact | None, bool]] = {}
        for event, payload in events:
            fact = fact_from_event(event, payload)
            live = self._live is not None and self._live_wants(payload)
            if (fact is not None or live) and event.id not in todo:
                todo[event.id] = (event, payload, fact, live)
        if not todo:
            return 0
        async with self._sessions() as session, session.begin():
            fresh = await ProjectionRepository(session).claim_many(list(todo))
            new = [todo[event_id] for event_id in todo if event_id in fresh]
            facts = [fact for _, _, fact, _ in new if fact is not None]
            if facts:
                await project_facts(session, facts)
            for event, payload, _, live in new:
                if live and self._live is not None:
                    await self._live(session, event, payload)
        log.debug("events_projected", events=len(events), new=len(new))
        return len(new)
