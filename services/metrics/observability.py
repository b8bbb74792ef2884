"""The metrics service's Prometheus metrics: the SLA board as gauges (from the sla.* events it
consumes), refreshed by a background loop rather than on scrape, so a scrape never waits on SQL."""

from __future__ import annotations

import asyncio

from prometheus_client import Gauge
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.metrics.dashboard.repository import DashboardRepository
from shared.logging import get_logger

log = get_logger(__name__)

SLA_CLOCKS = Gauge(
    "leadrelay_sla_clocks", "SLA clocks by state (open, warned, breached: running; met: stopped)", ["state"]
)
STATES = ("open", "warned", "breached", "met")


async def refresh_sla_gauges(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session:
        totals = await DashboardRepository(session).status_totals()
    for state in STATES:
        SLA_CLOCKS.labels(state).set(totals.get(state, 0))


async def gauge_loop(
    sessions: async_sessionmaker[AsyncSession], stop: asyncio.Event, every_s: float = 5.0
) -> None:
    while not stop.is_set():
        try:
            await refresh_sla_gauges(sessions)
        except Exception as exc:  # the database may be down: the gauges wait, the service goes on
            log.warning("sla_gauges_failed", error=type(exc).__name__)
        try:
            await asyncio.wait_for(stop.wait(), every_s)
        except TimeoutError:
            pass
