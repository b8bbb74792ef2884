"""`lead.captured` -> profile, score, rules, team, rep: a whole poll's worth in one transaction.

Per batch: claim the events (inbox, one statement), lock and read the profiles they touch, assess
every lead (pure), lock and read the routing state of the teams they need (one lock per team per
batch), place every lead in order (pure), then write everything once: profiles, counters,
decisions, owners, outbox. Events leave only after the commit; a crash anywhere rolls the whole
batch back and the redelivery is decided again from the same state.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.router.domain.decision import Assessment, Decision, Router
from services.router.observability import DECISIONS
from services.router.profiles import Profile, identity_key
from services.router.profiles.repository import ProfileRepository
from services.router.repository import RouterRepository
from services.router.routing import Assignment, Placement, TeamState
from services.router.routing.repository import RoutingRepository
from services.router.sla.service import SlaService
from shared.events import CloudEvent, LeadCaptured, Topics
from shared.logging import get_logger

log = get_logger(__name__)
Item = tuple[CloudEvent, LeadCaptured]


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
        self.router = router  # replaced whole on a config reload; a batch keeps the one it started with
        self._topics = topics
        self._on_commit = on_commit
        self._sla = sla

    def _now(self) -> datetime:
        return self._sla.clock.now() if self._sla is not None else datetime.now(UTC)

    async def __call__(self, event: CloudEvent, captured: LeadCaptured) -> bool:
        """Decide and persist; False when this event was already handled (redelivery)."""
        return (await self.handle_batch([(event, captured)]))[0]

    async def handle_batch(self, items: Sequence[Item]) -> list[bool]:
        """Decide a batch in order, in one transaction; per item, False when it was a redelivery."""
        router = self.router
        now = self._now()
        decisions: list[tuple[Decision, Placement | None]] = []
        async with self._sessions() as session, session.begin():
            repo = RouterRepository(session)
            fresh = await repo.claim_many([e.id for e, _ in items])
            todo: list[Item] = []
            for event, captured in items:
                if event.id in fresh:
                    fresh.discard(event.id)  # the same event twice in one batch: once
                    todo.append((event, captured))
            handled = {e.id for e, _ in todo}
            if todo:
                decisions = await self._decide(session, router, todo, now)
                await repo.record([r for d, _ in decisions for r in d.records()])
                events: list[CloudEvent] = []
                for (decision, placement), (event, captured) in zip(decisions, todo, strict=True):
                    events += decision.events()
                    if self._sla is not None and isinstance(placement, Assignment):
                        events += await self._sla.start(
                            session, event, captured, placement
                        )  # clocks start now
                await repo.enqueue(self._topics.handoffs, events)
        if todo:
            self._on_commit()  # the outbox relay publishes now rather than at its next poll
        for decision, placement in decisions:
            DECISIONS.labels(outcome=decision.qualification.outcome).inc()
            log.info(
                "lead_routed",
                lead_id=decision.lead_id,
                event_id=decision.trigger_event_id,
                outcome="duplicate" if decision.duplicate_of else decision.qualification.outcome,
                rule=decision.qualification.rule,
                placement=type(placement).__name__ if placement else None,
                rep_id=placement.rep_id if isinstance(placement, Assignment) else None,
                team=placement.team if placement else None,
            )
        skipped = [e.id for e, _ in items if e.id not in handled]
        for event_id in skipped:
            log.info("duplicate_event_skipped", event_id=event_id)
        return [e.id in handled for e, _ in items]

    async def _decide(
        self, session: AsyncSession, router: Router, todo: list[Item], now: datetime
    ) -> list[tuple[Decision, Placement | None]]:
        profile_repo, routing_repo = ProfileRepository(session), RoutingRepository(session)
        keys = [identity_key(c.lead, router.profiles.identity_keys) for _, c in todo]
        profiles: dict[str, Profile] = await profile_repo.lock(keys)
        assessments: list[Assessment] = []
        traces = [event.traceparent for event, _ in todo]
        for (event, captured), key in zip(todo, keys, strict=True):
            assessment = router.assess(
                event.subject, event.id, captured.lead, captured.source, event.time, profiles.get(key)
            )
            profiles[key] = Router.profile_after(assessment)  # the next submission in the batch sees it
            assessments.append(assessment)
        teams = [a.triage.team.team for a in assessments if a.triage.team is not None]
        states: dict[str, TeamState] = await routing_repo.load(teams)
        before = dict(states)
        results: list[tuple[Decision, Placement | None]] = []
        owners: list[tuple[str, str, str, datetime]] = []
        for assessment, key, trace in zip(assessments, keys, traces, strict=True):
            placement: Placement | None = None
            choice = assessment.triage.team
            if choice is not None:
                placement, states[choice.team.name] = router.place(assessment, states[choice.team.name], now)
                profiles[key] = replace(profiles[key], team=placement.team)
                if isinstance(placement, Assignment):
                    owners.append((assessment.lead_id, placement.rep_id, placement.team, now))
                    profiles[key] = replace(profiles[key], owner=placement.rep_id)
            decision = replace(router.decide(assessment, placement, now), traceparent=trace)
            results.append((decision, placement))
        await routing_repo.save(before, states)
        await routing_repo.own(owners)
        await profile_repo.save([profiles[k] for k in dict.fromkeys(keys)])
        return results
