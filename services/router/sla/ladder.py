"""What a due timer does, on the timer loop's transaction: warn, breach, or climb the ladder.

remind / notify_manager -> `sla.escalated` (the notifier sends it); reassign -> the next eligible
rep by the team's own routing policy and rotation (`lead.reassigned`, the clock follows the new
owner); move_to_queue -> `lead.queued` (the clock runs on, ownerless). Each step is also a
decision record, so the lead's timeline shows why it moved.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.router.domain.decision import DecisionRecord
from services.router.repository import RouterRepository
from services.router.routing import Assignment, LeadFacts, Team, place
from services.router.routing.repository import RoutingRepository
from services.router.sla.policy import SlaPolicy
from services.router.sla.repository import ClockRow, DueTimer, SlaRepository
from services.router.sla.service import SlaService, wrap
from shared.events import (
    CloudEvent,
    Event,
    LeadQueued,
    LeadReassigned,
    Reason,
    SlaBreached,
    SlaEscalated,
    SlaWarning,
    stable_id,
)


class Ladder:
    def __init__(self, sla: SlaService, teams: list[Team]) -> None:
        self.sla = sla
        self.teams = teams

    @property
    def teams(self) -> list[Team]:
        return list(self._teams.values())

    @teams.setter
    def teams(self, teams: list[Team]) -> None:  # a config reload swaps them
        self._teams = {t.name: t for t in teams}

    async def fire(self, session: AsyncSession, timer: DueTimer, now: datetime) -> list[CloudEvent] | None:
        """The events of one due timer; None when its clock is gone (the timer is cancelled)."""
        repo = SlaRepository(session)
        clock = await repo.clock(timer.clock_id)
        policy = self.sla.setup.policy(clock.policy) if clock else None
        if clock is None or clock.status != "open" or policy is None:
            return None
        common = {
            "clock_id": clock.clock_id,
            "policy": clock.policy,
            "target": clock.target,
            "team": clock.team,
            "rep_id": clock.rep_id,
        }
        payload: Event
        if timer.kind == "warning":
            payload = SlaWarning(
                **common, breach_at=clock.breach_at or timer.due_at, due_at=timer.due_at, fired_at=now
            )
        elif timer.kind == "breach":
            calendar = self.sla.setup.calendar_for(policy, clock.team, clock.rep_id)
            payload = SlaBreached(
                **common, target_seconds=policy.target_seconds(calendar), due_at=timer.due_at, fired_at=now
            )
        else:
            return await self._escalate(session, repo, clock, policy, timer, now)
        return [wrap(payload, clock.lead_id, timer.due_at, timer.timer_id)]

    async def _escalate(
        self,
        session: AsyncSession,
        repo: SlaRepository,
        clock: ClockRow,
        policy: SlaPolicy,
        timer: DueTimer,
        now: datetime,
    ) -> list[CloudEvent]:
        step = timer.step or 0
        why = Reason(
            code="sla_escalation",
            message=f"SLA {policy.name} breached: ladder step {step} {timer.action}",
            detail={"policy": policy.name, "step": step, "action": timer.action, "clock_id": clock.clock_id},
        )
        router_repo = RouterRepository(session)
        payload: Event
        decision_id = stable_id(timer.timer_id, "decision")
        team = self._teams.get(clock.team)
        if timer.action == "reassign" and team is not None:
            # The team's policy over its other reps (the owner missed the SLA), under the team's lock.
            routing = RoutingRepository(session)
            states = await routing.load([team])
            others = replace(team, reps=tuple(r for r in team.reps if r.id != clock.rep_id))
            placed, after = place(others, states[team.name], LeadFacts(), now)
            if isinstance(placed, Assignment):
                await routing.save(states, {team.name: after})
                await routing.transfer(clock.lead_id, placed.rep_id, team.name, now)
                await repo.set_owner(clock.clock_id, placed.rep_id)
                payload = LeadReassigned(
                    decision_id=decision_id,
                    source=clock.source,
                    previous_rep_id=clock.rep_id,
                    rep_id=placed.rep_id,
                    team=team.name,
                    policy=placed.policy,
                    reasons=[why, *placed.reasons],
                    decided_at=now,
                )
                await self._record(
                    router_repo, clock, timer, "reassigned", payload.reasons, now, placed.rep_id
                )
                return [wrap(payload, clock.lead_id, timer.due_at, timer.timer_id)]
            why = why.model_copy(update={"detail": {**why.detail, "outcome": "no_other_eligible_rep"}})
        if timer.action == "move_to_queue":
            queue = timer.queue or (team.fallback_queue if team else "unassigned")
            await repo.set_owner(clock.clock_id, None)
            payload = LeadQueued(
                decision_id=decision_id,
                source=clock.source,
                team=clock.team,
                queue=queue,
                policy=policy.name,
                reasons=[why],
                decided_at=now,
            )
        else:
            payload = SlaEscalated(
                clock_id=clock.clock_id,
                policy=clock.policy,
                target=clock.target,
                team=clock.team,
                rep_id=clock.rep_id,
                action=timer.action or "remind",
                step=step,
                manager=self.sla.setup.manager(clock.team),
                reasons=[why],
                due_at=timer.due_at,
                fired_at=now,
            )
        await self._record(router_repo, clock, timer, timer.action or "remind", [why], now, clock.rep_id)
        return [wrap(payload, clock.lead_id, timer.due_at, timer.timer_id)]

    async def _record(
        self,
        router_repo: RouterRepository,
        clock: ClockRow,
        timer: DueTimer,
        outcome: str,
        reasons: list[Reason],
        now: datetime,
        rep_id: str | None,
    ) -> None:
        await router_repo.record(
            [
                DecisionRecord(
                    decision_id=stable_id(timer.timer_id, "decision"),
                    lead_id=clock.lead_id,
                    trigger_event_id=timer.timer_id,
                    kind="sla_escalation",
                    outcome=outcome,
                    reasons=[r.model_dump(mode="json") for r in reasons],
                    event_time=timer.due_at,
                    decided_at=now,
                    team=clock.team,
                    rep_id=rep_id,
                    policy=clock.policy,
                )
            ]
        )
