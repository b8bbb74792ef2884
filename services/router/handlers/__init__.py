"""Router handlers, one module per event type it consumes, wired into one dispatcher."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.router.domain.decision import Router
from services.router.handlers.lead_captured import LeadCapturedHandler
from shared.dispatch import Dispatcher
from shared.events import LeadCaptured, Topics

__all__ = ["LeadCapturedHandler", "router_dispatcher"]


def router_dispatcher(
    sessions: async_sessionmaker[AsyncSession], router: Router, topics: Topics, on_commit: Callable[[], None]
) -> Dispatcher:
    return Dispatcher({LeadCaptured: LeadCapturedHandler(sessions, router, topics, on_commit)})
