"""`lead.captured` → qualification and placement, in one transaction per lead.

Inbox claim (dedupe), rotation lock, decision records and the outgoing events (outbox).
Events leave only after the commit.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.router.domain.decision import Decision, Router
from services.router.domain.routing import Assignment, Placement
from services.router.observability import DECISIONS
from services.router.repository import RouterRepository
from services.router.sla.service import SlaService
from shared.events import CloudEvent, LeadCaptured, Topics
from shared.logging import get_logger

log = get_logger(__name__)


class LeadCapturedHandler:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        router: Router,
        topics: Topics,
        on_commit: Callable[[], None],
        *,
        sla: SlaService | None = None,
    ) -> None:
        self._sessions = sessions
        self._router = router
        self._topics = topics
        self._on_commit = on_commit
        self._sla = sla

    async def __call__(self, event: CloudEvent, captured: LeadCaptured) -> bool:
        """Decide and persist; False when this event was already handled (redelivery)."""
        router = self._router
        async with self._sessions() as session, session.begin():
            repo = RouterRepository(session)
            if not await repo.claim(event.id):
                log.info("duplicate_event_skipped", event_id=event.id, lead_id=event.subject)
                return False
            triage = router.triage(captured.lead, captured.source)
            placement: Placement | None = None
            if triage.team is not None:
                last_rep = await repo.lock_rotation(triage.team.team.name)
                placement = router.assign(triage.team, last_rep)
                if isinstance(placement, Assignment):
                    await repo.advance_rotation(placement.team, placement.rep_id)
            decision = Decision(
                lead_id=event.subject,
                trigger_event_id=event.id,
                event_time=event.time,
                source=captured.source,
                ruleset_version=router.rules.version,
                qualification=triage.qualification,
                placement=placement,
                decided_at=datetime.now(UTC),
            )
            await repo.record(decision.records())
            events = decision.events()
            if self._sla is not None and isinstance(placement, Assignment):
                events += await self._sla.start(session, event, captured, placement)  # SLA clocks start now
            await repo.enqueue(self._topics.handoffs, events)
        self._on_commit()  # the outbox relay publishes now rather than at its next poll
        DECISIONS.labels(outcome=triage.qualification.outcome).inc()
        log.info(
            "lead_routed",
            lead_id=event.subject,
            event_id=event.id,
            outcome=triage.qualification.outcome,
            rule=triage.qualification.rule,
            placement=type(placement).__name__ if placement else None,
            rep_id=placement.rep_id if isinstance(placement, Assignment) else None,
            team=placement.team if placement else None,
        )
        return True
