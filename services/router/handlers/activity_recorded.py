"""`activity.recorded` (sales feedback) -> the SLA feature, in one transaction per activity.

Inbox claim (dedupe), then `record_activity` (stop clocks, accept / reject / recycle), the
`feedback` decision that explains it, and the outgoing events (outbox). Unknown leads and
out-of-order activities are recorded with their reason, never raised: feedback is never
dead-lettered for being surprising.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.router.repository import RouterRepository
from services.router.routing.repository import RoutingRepository
from services.router.sla.feedback import record_activity
from services.router.sla.service import SlaService
from shared.events import ActivityRecorded, CloudEvent, Topics
from shared.logging import get_logger

log = get_logger(__name__)
# Activities after which the lead no longer counts against its owner's open-lead cap.
CLOSES_FOR_OWNER = ("rejected", "opportunity_created", "won", "lost")


class ActivityRecordedHandler:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        sla: SlaService,
        topics: Topics,
        on_commit: Callable[[], None],
    ) -> None:
        self._sessions = sessions
        self._sla = sla
        self._topics = topics
        self._on_commit = on_commit

    async def __call__(self, event: CloudEvent, activity: ActivityRecorded) -> bool:
        """Apply one activity; False when it was already handled (redelivery)."""
        async with self._sessions() as session, session.begin():
            repo = RouterRepository(session)
            if not await repo.claim(event.id):
                log.info("duplicate_event_skipped", event_id=event.id, lead_id=event.subject)
                return False
            outcome = await record_activity(self._sla, session, event, activity)
            if activity.kind in CLOSES_FOR_OWNER:
                await RoutingRepository(session).release(event.subject)
            await repo.record([outcome.decision(event, activity, self._sla.clock.now())])
            await repo.enqueue(self._topics.handoffs, outcome.events)
        if outcome.events:
            self._on_commit()
        log.info(
            "activity_applied",
            lead_id=event.subject,
            event_id=event.id,
            kind=activity.kind,
            outcome=outcome.outcome,
            reasons=[r.code for r in outcome.reasons],
            events=[e.type for e in outcome.events],
        )
        return True
