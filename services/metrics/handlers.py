"""Metrics handler: every lead and handoff event becomes stage transitions on event time."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.metrics.domain.stages import Transition, stages_for
from services.metrics.repository import MetricsRepository
from shared.events import CloudEvent, EnvelopeError
from shared.kafka import Delivery, PermanentError
from shared.logging import get_logger

log = get_logger(__name__)


class StageEventsHandler:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def __call__(self, delivery: Delivery) -> None:
        try:
            event = CloudEvent.from_bytes(delivery.value)
        except EnvelopeError as exc:
            raise PermanentError(str(exc)) from exc
        await self.handle(event)

    async def handle(self, event: CloudEvent) -> bool:
        stages = stages_for(event.type, event.data)
        if not stages:
            return False  # not a stage-moving event (sla.*, for instance)
        source = event.data.get("source")
        items = [Transition(event.subject, stage, event.time, event.id, event.type) for stage in stages]
        async with self._sessions() as session, session.begin():
            repo = MetricsRepository(session)
            if not await repo.claim(event.id):
                return False
            await repo.apply(event.subject, source if isinstance(source, str) else None, items)
        log.debug("stages_recorded", lead_id=event.subject, event_id=event.id, stages=list(stages))
        return True
