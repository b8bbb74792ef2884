"""Metrics consumer: every stage-moving event, plus SLA outcomes, dispatched by model to the projection."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.metrics.dashboard.live import LIVE_MODELS, apply_live, wants
from services.metrics.domain.stages import STAGE_MOVING_MODELS
from services.metrics.projection import Projector
from shared.dispatch import Dispatcher
from shared.events import SlaBreached, SlaMet


def metrics_dispatcher(sessions: async_sessionmaker[AsyncSession]) -> Dispatcher:
    # The dashboard's live tables (SLA board, contacts) are written in the same transaction.
    project = Projector(sessions, live=apply_live, live_wants=wants)
    return Dispatcher(dict.fromkeys((*STAGE_MOVING_MODELS, SlaMet, SlaBreached, *LIVE_MODELS), project))
