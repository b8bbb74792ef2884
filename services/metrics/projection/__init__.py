"""The metrics write side: typed events → stage transitions on event time, folded per lead.

Used by the live consumer and reusable by `replay` (same code, same result)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.metrics.domain.stages import Transition, source_of, stages_for
from services.metrics.projection.repository import ProjectionRepository
from shared.events import CloudEvent, Event
from shared.logging import get_logger

log = get_logger(__name__)

__all__ = ["Projector"]


class Projector:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def __call__(self, event: CloudEvent, payload: Event) -> bool:
        """Project one event; False when it moves no stage or was already projected."""
        stages = stages_for(payload)
        if not stages:
            return False
        items = [Transition(event.subject, stage, event.time, event.id, event.type) for stage in stages]
        async with self._sessions() as session, session.begin():
            repo = ProjectionRepository(session)
            if not await repo.claim(event.id):
                return False
            await repo.apply(event.subject, source_of(payload), items)
        log.debug("stages_recorded", lead_id=event.subject, event_id=event.id, stages=list(stages))
        return True
