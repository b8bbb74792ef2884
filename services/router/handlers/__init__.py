"""Router handlers, one module per event type it consumes, wired into one dispatcher."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.router.domain.decision import Router
from services.router.handlers.activity_recorded import ActivityRecordedHandler
from services.router.handlers.lead_captured import LeadCapturedHandler
from services.router.sla.service import SlaService
from services.router.sla.setup import SlaSetup
from services.router.sla.time_source import SystemClock
from shared.dispatch import Dispatcher
from shared.events import ActivityRecorded, LeadCaptured, Topics

__all__ = ["ActivityRecordedHandler", "LeadCapturedHandler", "router_dispatcher"]


def router_dispatcher(
    sessions: async_sessionmaker[AsyncSession],
    router: Router,
    topics: Topics,
    on_commit: Callable[[], None],
    sla: SlaService | None = None,
) -> Dispatcher:
    # Without SLA policies feedback still flows: accept / reject / recycle need no clock.
    sla = sla or SlaService(SlaSetup([], {}, []), SystemClock())
    return Dispatcher(
        {
            LeadCaptured: LeadCapturedHandler(sessions, router, topics, on_commit, sla=sla),
            ActivityRecorded: ActivityRecordedHandler(sessions, sla, topics, on_commit),
        }
    )
