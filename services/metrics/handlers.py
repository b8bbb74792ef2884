"""Metrics consumer: every stage-moving event, plus SLA outcomes, dispatched by model to the projection.

One event at a time (`metrics_dispatcher`), or a poll's records at once (`metrics_batch_handler`:
one transaction per poll batch, which is what keeps event-to-report lag low under load)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.metrics.dashboard.live import LIVE_MODELS, apply_live, wants
from services.metrics.domain.stages import STAGE_MOVING_MODELS
from services.metrics.projection import Projector
from shared.dispatch import Dispatcher, decode
from shared.events import Event, SlaBreached, SlaMet
from shared.kafka import Delivery
from shared.kafka.records import BatchHandler

HANDLED: tuple[type[Event], ...] = (*STAGE_MOVING_MODELS, SlaMet, SlaBreached, *LIVE_MODELS)


def projector(sessions: async_sessionmaker[AsyncSession]) -> Projector:
    # The dashboard's live tables (SLA board, contacts) are written in the same transaction.
    return Projector(sessions, live=apply_live, live_wants=wants)


def metrics_dispatcher(sessions: async_sessionmaker[AsyncSession]) -> Dispatcher:
    return Dispatcher(dict.fromkeys(HANDLED, projector(sessions)))


def metrics_batch_handler(sessions: async_sessionmaker[AsyncSession]) -> BatchHandler:
    """A poll batch (one partition's records, in order) projected in one transaction. Bad bytes
    raise PermanentError: the loop then goes one by one and dead-letters just that record."""
    project = projector(sessions)

    async def handle(deliveries: Sequence[Delivery]) -> None:
        decoded = [d for delivery in deliveries if (d := decode(delivery.value)) is not None]
        await project.project_many(
            [(e, p) for e, p in decoded if type(p) in HANDLED]
        )  # as Dispatcher: by exact model

    return handle
