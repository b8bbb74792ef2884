"""What a page of due timers does, computed in one pass with no I/O: warn, breach, climb the ladder.

The timer loop loads everything a page needs at once (its clocks, and the team states of any
reassignment) and writes the result at once (`ladder.py`); this module only decides. Timers are
taken in due order and each sees what the earlier ones did: a `notify_manager` after a `reassign`
of the same clock names the new owner, and two reassignments in one team advance its rotation twice.

remind / notify_manager -> `sla.escalated` (the notifier sends it); reassign -> the next eligible
rep by the team's own routing policy (`lead.reassigned`, the clock follows the new owner);
move_to_queue -> `lead.queued` (the clock runs on, ownerless). Each step is also a decision record,
so the lead's timeline shows why it moved.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from services.router.domain.record import DecisionRecord
from services.router.routing import Assignment, LeadFacts, Team, TeamState, place
from services.router.sla.envelope import wrap
from services.router.sla.model import ClockRow, DueTimer
from services.router.sla.policy import SlaPolicy, paused_wall_seconds
from services.router.sla.setup import SlaSetup
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


@dataclass
class FiringPlan:
    """The writes of one page: everything is applied in the claiming transaction."""

    events: list[CloudEvent] = field(default_factory=list)
    decisions: list[DecisionRecord] = field(default_factory=list)
    fired: list[DueTimer] = field(default_factory=list)
    cancelled: list[int] = field(default_factory=list)  # their clock is stopped or gone
    held: list[int] = field(default_factory=list)  # their clock is paused: rescheduled on resume
    owners: dict[str, str | None] = field(default_factory=dict)  # clock_id -> owner after the page
    transfers: list[tuple[str, str, str, datetime]] = field(default_factory=list)  # lead, rep, team, at
    states: dict[str, TeamState] = field(default_factory=dict)  # team states after the reassignments


def teams_to_lock(
    due: Sequence[DueTimer], clocks: Mapping[str, ClockRow], teams: Mapping[str, Team]
) -> list[Team]:
    """The teams whose rotation a page's reassignments advance (their rows are locked, then read)."""
    names = {
        clocks[t.clock_id].team
        for t in due
        if t.action == "reassign" and t.clock_id in clocks and clocks[t.clock_id].team in teams
    }
    return [teams[name] for name in sorted(names)]


def plan_page(
    setup: SlaSetup,
    teams: Mapping[str, Team],
    due: Sequence[DueTimer],
    clocks: Mapping[str, ClockRow],
    states: Mapping[str, TeamState],
    now: datetime,
) -> FiringPlan:
    plan = FiringPlan(states=dict(states))
    current = dict(clocks)  # owners change as the page goes
    for timer in due:
        clock = current.get(timer.clock_id)
        policy = setup.policy(clock.policy) if clock else None
        if clock is None or clock.status != "open" or policy is None:
            plan.cancelled.append(timer.id)
            continue
        if clock.paused:  # not claimable once paused; a row claimed in a race waits for the resume
            plan.held.append(timer.id)
            continue
        after = _step(setup, teams, plan, clock, policy, timer, now)
        if after.rep_id != clock.rep_id:
            current[clock.clock_id] = after
            plan.owners[clock.clock_id] = after.rep_id
        plan.fired.append(timer)
    return plan


def _step(
    setup: SlaSetup,
    teams: Mapping[str, Team],
    plan: FiringPlan,
    clock: ClockRow,
    policy: SlaPolicy,
    timer: DueTimer,
    now: datetime,
) -> ClockRow:
    """Add one timer's events and decision to the plan; the clock as it is afterwards."""
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
        calendar = setup.calendar_for(policy, clock.team, clock.rep_id)
        payload = SlaBreached(
            **common,
            target_seconds=policy.target_seconds(calendar),
            due_at=timer.due_at,
            fired_at=now,
            paused_seconds=paused_wall_seconds(clock.pauses, clock.started_at, timer.due_at),
        )
    else:
        return _escalate(setup, teams, plan, clock, policy, timer, now)
    plan.events.append(wrap(payload, clock.lead_id, timer.due_at, timer.timer_id))
    return clock


def _escalate(
    setup: SlaSetup,
    teams: Mapping[str, Team],
    plan: FiringPlan,
    clock: ClockRow,
    policy: SlaPolicy,
    timer: DueTimer,
    now: datetime,
) -> ClockRow:
    step = timer.step or 0
    why = Reason(
        code="sla_escalation",
        message=f"SLA {policy.name} breached: ladder step {step} {timer.action}",
        detail={"policy": policy.name, "step": step, "action": timer.action, "clock_id": clock.clock_id},
    )
    decision_id = stable_id(timer.timer_id, "decision")
    team = teams.get(clock.team)
    payload: Event
    if timer.action == "reassign" and team is not None and team.name in plan.states:
        # The team's policy over its other reps (the owner missed the SLA).
        others = replace(team, reps=tuple(r for r in team.reps if r.id != clock.rep_id))
        placed, after = place(others, plan.states[team.name], LeadFacts(), now)
        if isinstance(placed, Assignment):
            plan.states[team.name] = after
            plan.transfers.append((clock.lead_id, placed.rep_id, team.name, now))
            reassigned = LeadReassigned(
                decision_id=decision_id,
                source=clock.source,
                previous_rep_id=clock.rep_id,
                rep_id=placed.rep_id,
                team=team.name,
                policy=placed.policy,
                reasons=[why, *placed.reasons],
                decided_at=now,
            )
            _record(plan, clock, timer, "reassigned", reassigned.reasons, now, placed.rep_id)
            plan.events.append(wrap(reassigned, clock.lead_id, timer.due_at, timer.timer_id))
            return replace(clock, rep_id=placed.rep_id)
        why = why.model_copy(update={"detail": {**why.detail, "outcome": "no_other_eligible_rep"}})
    owner_after = clock
    if timer.action == "move_to_queue":
        owner_after = replace(clock, rep_id=None)
        payload = LeadQueued(
            decision_id=decision_id,
            source=clock.source,
            team=clock.team,
            queue=timer.queue or (team.fallback_queue if team else "unassigned"),
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
            manager=setup.manager(clock.team),
            reasons=[why],
            due_at=timer.due_at,
            fired_at=now,
        )
    _record(plan, clock, timer, timer.action or "remind", [why], now, clock.rep_id)
    plan.events.append(wrap(payload, clock.lead_id, timer.due_at, timer.timer_id))
    return owner_after


def _record(
    plan: FiringPlan,
    clock: ClockRow,
    timer: DueTimer,
    outcome: str,
    reasons: list[Reason],
    now: datetime,
    rep_id: str | None,
) -> None:
    plan.decisions.append(
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
    )
