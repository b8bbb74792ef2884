"""Sales feedback (`activity.recorded`) on an open transaction: stop, pause or resume clocks, accept,
reject, recycle (pausing is in `pausing.py`).

Every activity ends in an `Outcome` with reasons, stored as a `feedback` decision so the lead's
timeline explains it, even when nothing else happens (an unknown lead, a clock already stopped,
a touch dated before the clock started). Nothing here raises for odd input: the consumer must
never dead-letter sales feedback.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.router.domain.decision import DecisionRecord
from services.router.sla.pausing import pause_or_resume
from services.router.sla.policy import elapsed
from services.router.sla.repository import ClockRow, SlaRepository
from services.router.sla.service import SlaService, whole_seconds, wrap
from shared.events import (
    ActivityRecorded,
    CloudEvent,
    LeadAccepted,
    LeadRecycled,
    LeadRejected,
    Reason,
    SlaMet,
    stable_id,
)
from shared.logging import get_logger

log = get_logger(__name__)

# Which clock targets each activity stops. Accepting or rejecting also ends a first-touch clock:
# the rep has acted on the lead, and a ladder must not reassign a lead its owner already accepted.
STOPS: dict[str, tuple[str, ...]] = {
    "first_touch": ("first_touch",),
    "accepted": ("first_touch", "accepted_or_rejected"),
    "rejected": ("first_touch", "accepted_or_rejected"),
}
# The lead moved past the SLA's questions: its clocks end without a verdict.
MOVES_ON = ("opportunity_created", "won", "lost")


@dataclass
class Outcome:
    outcome: str
    reasons: list[Reason] = field(default_factory=list)
    events: list[CloudEvent] = field(default_factory=list)

    def note(self, code: str, message: str, **detail: object) -> None:
        self.reasons.append(Reason(code=code, message=message, detail=dict(detail)))

    def decision(self, event: CloudEvent, activity: ActivityRecorded, decided_at: datetime) -> DecisionRecord:
        """The `feedback` line of the lead's timeline: what sales said and what the router did."""
        return DecisionRecord(
            decision_id=stable_id(event.id, "feedback"),
            lead_id=event.subject,
            trigger_event_id=event.id,
            kind="feedback",
            outcome=self.outcome,
            reasons=[r.model_dump(mode="json") for r in self.reasons],
            event_time=event.time,
            decided_at=decided_at,
            rep_id=activity.rep_id,
        )


async def record_activity(
    sla: SlaService, session: AsyncSession, event: CloudEvent, activity: ActivityRecorded
) -> Outcome:
    repo = SlaRepository(session)
    lead_id, at = event.subject, event.time
    clocks = await repo.open_clocks(lead_id)
    if not clocks and not await repo.lead_known(lead_id):
        out = Outcome("ignored")
        out.note("unknown_lead", f"no routing decision for this lead: {activity.kind} noted, nothing to do")
        return out
    out = Outcome(activity.kind)
    stopping = STOPS.get(activity.kind, ())
    for clock in clocks:
        if clock.target in stopping:
            out.events.extend(await _stop(sla, repo, clock, event, activity))
            out.note("sla_stopped", f"{activity.kind} stopped SLA {clock.policy}", policy=clock.policy)
        elif activity.kind in MOVES_ON:
            await repo.stop_clock(clock.clock_id, "cancelled", at)
            if clock.paused:
                await repo.save_pauses(clock.resume(at))
            out.note("sla_closed", f"{activity.kind}: SLA {clock.policy} closed", policy=clock.policy)
        elif (policy := sla.setup.policy(clock.policy)) is not None:
            events, notes = await pause_or_resume(
                sla.setup, repo, clock, policy, event, activity, sla.clock.now()
            )
            out.events.extend(events)
            out.reasons.extend(notes)
    if stopping and not any(c.target in stopping for c in clocks):
        out.note("no_open_clock", f"no open SLA clock stopped by {activity.kind} (stopped before, or none)")
    if activity.kind == "accepted":
        out.events.append(wrap(LeadAccepted(rep_id=activity.rep_id), lead_id, at, event.id))
    elif activity.kind == "rejected":
        out.events.append(
            wrap(LeadRejected(rep_id=activity.rep_id, reason=activity.reason), lead_id, at, event.id)
        )
        if sla.setup.feedback.recycles(activity.reason):
            out.events.append(wrap(LeadRecycled(reason=activity.reason), lead_id, at, event.id))
            out.note("recycled", f"rejected for {activity.reason or 'no reason'}: recycled to nurture")
    return out


async def _stop(
    sla: SlaService, repo: SlaRepository, clock: ClockRow, event: CloudEvent, activity: ActivityRecorded
) -> list[CloudEvent]:
    at: datetime = event.time
    await repo.stop_clock(clock.clock_id, "met", at)
    if clock.paused:  # the stop ends the pause: the record shows how long it lasted
        await repo.save_pauses(clock.resume(at))
    policy = sla.setup.policy(clock.policy)
    if policy is None:  # the policy left the config while the clock ran: no calendar to count on
        log.warning("sla_policy_gone", lead_id=clock.lead_id, policy=clock.policy)
        return []
    if at < clock.started_at:
        log.info("activity_before_clock_start", lead_id=clock.lead_id, policy=clock.policy)
    calendar = sla.setup.calendar_for(policy, clock.team, clock.rep_id)
    took = elapsed(policy, calendar, clock.started_at, at, clock.pauses)
    met = SlaMet(
        clock_id=clock.clock_id,
        policy=clock.policy,
        target=clock.target,
        team=clock.team,
        rep_id=activity.rep_id or clock.rep_id,
        stopped_by=activity.kind,
        stopped_at=max(at, clock.started_at),
        within_target=took.met,
        business_seconds=took.business_seconds,
        wall_seconds=took.wall_seconds,
        paused_seconds=took.paused_seconds,
        target_seconds=took.target_seconds,
        system_delay_seconds=whole_seconds(clock.captured_at, clock.started_at),
        rep_delay_seconds=took.wall_seconds,
    )
    return [wrap(met, clock.lead_id, at, event.id, clock.clock_id)]
