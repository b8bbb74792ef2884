"""Pausing and resuming clocks from sales feedback, on the activity's transaction.

A policy's `pause_on` lists CRM stages (e.g. `waiting_on_prospect`): a `stage_changed` to one of
them pauses the lead's open clocks of that policy from the activity's event time, with the stage
recorded as the reason (`sla.paused`). Any later activity that does not pause resumes them
(`sla.resumed`); a stop (first touch, accept, reject) ends the pause at the stop. While paused the
clock's pending timers are held (state `paused`, never claimed); the resume moves every one of them
by the paused business time (`schedule` with the closed pauses) and makes it pending again.
Timers that fired before a late-arriving pause stay fired: nothing is unsent.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from services.router.sla.clock import NoBusinessTimeError, business_seconds
from services.router.sla.envelope import wrap
from services.router.sla.model import ClockRow
from services.router.sla.policy import SlaPolicy, schedule
from services.router.sla.repository import SlaRepository
from services.router.sla.setup import SlaSetup
from shared.events import ActivityRecorded, CloudEvent, Reason, SlaPaused, SlaResumed


async def pause_or_resume(
    setup: SlaSetup,
    repo: SlaRepository,
    clock: ClockRow,
    policy: SlaPolicy,
    event: CloudEvent,
    activity: ActivityRecorded,
    now: datetime,
) -> tuple[list[CloudEvent], list[Reason]]:
    """What this activity does to one open clock that it does not stop: pause, resume, or nothing."""
    reason = policy.pause_reason(activity.kind, activity.stage)
    if reason is not None and clock.paused:
        note = _note("already_paused", f"SLA {clock.policy} stays paused ({clock.pause_reasons[-1]})", clock)
        return [], [note]
    if reason is not None:
        return await _pause(setup, repo, clock, policy, event, reason)
    if clock.paused:
        return await _resume(setup, repo, clock, policy, event, activity, now)
    return [], []


async def _pause(
    setup: SlaSetup, repo: SlaRepository, clock: ClockRow, policy: SlaPolicy, event: CloudEvent, reason: str
) -> tuple[list[CloudEvent], list[Reason]]:
    paused = clock.pause(event.time, reason)
    begin = paused.pauses[-1][0]
    await repo.hold_timers(clock.clock_id)
    await repo.save_pauses(paused)
    calendar = setup.calendar_for(policy, clock.team, clock.rep_id)
    closed = [(b, e) for b, e in clock.pauses if e is not None]
    payload = SlaPaused(
        **_common(clock),
        reason=reason,
        paused_at=begin,
        business_seconds=business_seconds(calendar, clock.started_at, begin, closed),
    )
    note = _note("sla_paused", f"SLA {clock.policy} paused: {reason}", clock, reason=reason)
    return [wrap(payload, clock.lead_id, begin, event.id, clock.clock_id)], [note]


async def _resume(
    setup: SlaSetup,
    repo: SlaRepository,
    clock: ClockRow,
    policy: SlaPolicy,
    event: CloudEvent,
    activity: ActivityRecorded,
    now: datetime,
) -> tuple[list[CloudEvent], list[Reason]]:
    resumed = clock.resume(event.time)
    begin, end = resumed.pauses[-1]
    assert end is not None  # just closed
    calendar = setup.calendar_for(policy, clock.team, clock.rep_id)
    closed = [(b, e) for b, e in resumed.pauses if e is not None]
    try:
        planned = schedule(policy, calendar, clock.started_at, closed, max(now, end))
    except NoBusinessTimeError:  # the calendar closed for good meanwhile: the timers stay held
        return [], [_note("sla_calendar_never_open", f"SLA {clock.policy} cannot be rescheduled", clock)]
    resumed = replace(resumed, breach_at=planned.breach_at)
    moved = await repo.reschedule(clock.clock_id, {t.key: t.at for t in planned.timers})
    await repo.save_pauses(resumed)
    others = closed[:-1]
    payload = SlaResumed(
        **_common(clock),
        reason=clock.pause_reasons[-1],
        resumed_by=activity.stage if activity.kind == "stage_changed" and activity.stage else activity.kind,
        paused_at=begin,
        resumed_at=end,
        paused_seconds=int((end - begin).total_seconds()),
        paused_business_seconds=business_seconds(calendar, begin, end, others),
        warning_at=next((t.at for t in planned.timers if t.kind == "warning" and t.key in moved), None),
        breach_at=planned.breach_at or end,
    )
    note = _note("sla_resumed", f"SLA {clock.policy} resumed after {clock.pause_reasons[-1]}", clock)
    return [wrap(payload, clock.lead_id, end, event.id, clock.clock_id)], [note]


def _common(clock: ClockRow) -> dict[str, object]:
    return {
        "clock_id": clock.clock_id,
        "policy": clock.policy,
        "target": clock.target,
        "team": clock.team,
        "rep_id": clock.rep_id,
    }


def _note(code: str, message: str, clock: ClockRow, **detail: object) -> Reason:
    return Reason(code=code, message=message, detail={"policy": clock.policy, **detail})
