"""Rebuild the read model from the metrics log (`metrics_events`), and project event batches.

The log of record for replay is the metrics database's own fact log, not the Kafka topics: the
embedded broker forgets everything on restart, imported history never went through Kafka (it
must not be re-routed), and the log is PII-free. Replay clears the per-lead rows and refolds
every lead from its facts, a page of leads per transaction; the transition log is append-only
and is kept.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.metrics.domain.facts import Fact, fact_from_event
from services.metrics.projection import project_facts
from services.metrics.projection.repository import ProjectionRepository
from shared.events import CloudEvent, Event

PAGE = 1000


async def replay(
    sessions: async_sessionmaker[AsyncSession], progress: Callable[[int], None] | None = None
) -> int:
    """Refold every lead from the log; returns how many leads. `progress(n)` after each page."""
    async with sessions() as session, session.begin():
        await ProjectionRepository(session).clear_read_model()
    done, after = 0, None
    while True:
        async with sessions() as session, session.begin():
            repo = ProjectionRepository(session)
            page = await repo.lead_ids(after, PAGE)
            if not page:
                return done
            await repo.lock(page)
            await repo.refold(page)
        done, after = done + len(page), page[-1]
        if progress:
            progress(len(page))


def facts_of(events: Iterable[tuple[CloudEvent, Event]]) -> list[Fact]:
    return [f for e, p in events if (f := fact_from_event(e, p)) is not None]


async def project_batch(sessions: async_sessionmaker[AsyncSession], facts: Sequence[Fact]) -> int:
    """Project a batch of facts in one transaction (import, tests); returns how many were new."""
    async with sessions() as session, session.begin():
        return await project_facts(session, facts)
