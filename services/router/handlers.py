"""Router handlers: turn a captured lead into its decisions and handoff events.

One transaction per lead: inbox claim (dedupe), rotation lock, decision records and
the outgoing events (outbox). Events leave only after the commit.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.router.domain.decision import Router
from services.router.domain.routing import Assignment
from services.router.domain.rules import Qualification
from services.router.repository import DecisionRecord, RouterRepository
from shared.events import (
    CloudEvent,
    EnvelopeError,
    Event,
    LeadAssigned,
    LeadCaptured,
    LeadDisqualified,
    LeadNurtured,
    LeadQualified,
    Topics,
)
from shared.events.models import QualificationDecided
from shared.kafka import Delivery, PermanentError
from shared.logging import get_logger
from shared.observability import DECISIONS

log = get_logger(__name__)

EVENT_SOURCE = "leadrelay/router"
_QUALIFICATION_EVENTS: dict[str, type[QualificationDecided]] = {
    "qualified": LeadQualified,
    "disqualified": LeadDisqualified,
    "nurtured": LeadNurtured,
}


def derived_id(trigger_event_id: str, what: str) -> str:
    """Stable ids for derived events: reprocessing the same input can never mint new ones."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"leadrelay:{trigger_event_id}:{what}"))


class LeadEventsHandler:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        router: Router,
        topics: Topics,
        on_commit: Callable[[], None],
    ) -> None:
        self._sessions = sessions
        self._router = router
        self._topics = topics
        self._on_commit = on_commit

    async def __call__(self, delivery: Delivery) -> None:
        try:
            event = CloudEvent.from_bytes(delivery.value)
            if event.type != LeadCaptured.event_type:
                return  # activity feedback drives SLA clocks, handled by its own feature
            captured = event.payload(LeadCaptured)
        except EnvelopeError as exc:
            raise PermanentError(str(exc)) from exc
        await self.handle_captured(event, captured)

    async def handle_captured(self, event: CloudEvent, captured: LeadCaptured) -> bool:
        """Decide and persist; False when this event was already handled (redelivery)."""
        router = self._router
        async with self._sessions() as session, session.begin():
            repo = RouterRepository(session)
            if not await repo.claim(event.id):
                log.info("duplicate_event_skipped", event_id=event.id, lead_id=event.subject)
                return False
            decided_at = datetime.now(UTC)
            triage = router.triage(captured.lead, captured.source)
            qualification = triage.qualification
            assignment: Assignment | None = None
            if triage.team is not None:
                last_rep = await repo.lock_rotation(triage.team.team.name)
                assignment = router.assign(triage.team, last_rep)
                if assignment.policy != "fallback":
                    await repo.advance_rotation(assignment.team, assignment.rep_id)
            records, events = self._outputs(event, captured, qualification, assignment, decided_at)
            await repo.record(records)
            await repo.enqueue(self._topics.handoffs, events)
        self._on_commit()  # the outbox relay publishes now rather than at its next poll
        DECISIONS.labels(outcome=qualification.outcome).inc()
        log.info(
            "lead_routed",
            lead_id=event.subject,
            event_id=event.id,
            outcome=qualification.outcome,
            rule=qualification.rule,
            rep_id=assignment.rep_id if assignment else None,
            team=assignment.team if assignment else None,
        )
        return True

    def _outputs(
        self,
        event: CloudEvent,
        captured: LeadCaptured,
        qualification: Qualification,
        assignment: Assignment | None,
        decided_at: datetime,
    ) -> tuple[list[DecisionRecord], list[CloudEvent]]:
        lead_id = event.subject
        version = self._router.rules.version
        qual_id = derived_id(event.id, "qualification")
        outputs: list[Event] = [
            _QUALIFICATION_EVENTS[qualification.outcome](
                decision_id=qual_id,
                source=captured.source,
                ruleset_version=version,
                rule=qualification.rule,
                reasons=list(qualification.reasons),
                decided_at=decided_at,
            )
        ]
        records = [
            DecisionRecord(
                decision_id=qual_id,
                lead_id=lead_id,
                trigger_event_id=event.id,
                kind="qualification",
                outcome=qualification.outcome,
                rule=qualification.rule,
                ruleset_version=version,
                reasons=[r.model_dump(mode="json") for r in qualification.reasons],
                event_time=event.time,
                decided_at=decided_at,
            )
        ]
        if assignment is not None:
            assign_id = derived_id(event.id, "assignment")
            outputs.append(
                LeadAssigned(
                    decision_id=assign_id,
                    source=captured.source,
                    rep_id=assignment.rep_id,
                    team=assignment.team,
                    policy=assignment.policy,
                    reasons=list(assignment.reasons),
                    decided_at=decided_at,
                )
            )
            records.append(
                DecisionRecord(
                    decision_id=assign_id,
                    lead_id=lead_id,
                    trigger_event_id=event.id,
                    kind="assignment",
                    outcome="assigned",
                    team=assignment.team,
                    rep_id=assignment.rep_id,
                    policy=assignment.policy,
                    reasons=[r.model_dump(mode="json") for r in assignment.reasons],
                    event_time=event.time,
                    decided_at=decided_at,
                )
            )
        # Decisions happen "at" the lead's event time, so imported history replays into the same funnel.
        events = [
            CloudEvent.wrap(
                payload,
                subject=lead_id,
                source=EVENT_SOURCE,
                time=event.time,
                event_id=derived_id(event.id, payload.event_type),
            )
            for payload in outputs
        ]
        return records, events
