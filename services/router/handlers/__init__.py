"""Router handlers, one module per event type it consumes, wired into one dispatcher."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.router.domain.decision import Router
from services.router.erasure import PersonErasedHandler
from services.router.handlers.activity_recorded import ActivityRecordedHandler
from services.router.handlers.batch import RouterBatchHandler
from services.router.handlers.lead_captured import LeadCapturedHandler
from services.router.sla.service import SlaService
from services.router.sla.setup import SlaSetup
from services.router.sla.time_source import SystemClock
from shared.dispatch import Dispatcher
from shared.events import ActivityRecorded, LeadCaptured, PersonErased, Topics

__all__ = [
    "ActivityRecordedHandler",
    "LeadCapturedHandler",
    "RouterBatchHandler",
    "router_dispatcher",
    "router_handlers",
]


def router_dispatcher(
    sessions: async_sessionmaker[AsyncSession],
    router: Router,
    topics: Topics,
    on_commit: Callable[[], None],
    sla: SlaService | None = None,
) -> Dispatcher:
    return router_handlers(sessions, router, topics, on_commit, sla)[0]


def router_handlers(
    sessions: async_sessionmaker[AsyncSession],
    router: Router,
    topics: Topics,
    on_commit: Callable[[], None],
    sla: SlaService | None = None,
) -> tuple[Dispatcher, RouterBatchHandler, LeadCapturedHandler]:
    """The per-event dispatcher, the batch handler over it, and the lead handler (for reloads)."""
    # Without SLA policies feedback still flows: accept / reject / recycle need no clock.
    sla = sla or SlaService(SlaSetup([], {}, []), SystemClock())
    leads = LeadCapturedHandler(sessions, router, topics, on_commit, sla=sla)
    dispatcher = Dispatcher(
        {
            LeadCaptured: leads,
            ActivityRecorded: ActivityRecordedHandler(sessions, sla, topics, on_commit),
            PersonErased: PersonErasedHandler(sessions, topics, on_commit),
        }
    )
    return dispatcher, RouterBatchHandler(dispatcher, leads), leads
