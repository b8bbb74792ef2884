"""Sales feedback on real databases: first touch stops the clock with business and wall time,
accept / reject / recycle, and the odd cases (unknown lead, redelivery, late or early touches)
explained, never raised."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.router.handlers import ActivityRecordedHandler
from services.router.sla import ManualClock
from services.router.sla.timer_loop import SlaTimerLoop
from services.router.tables import decisions, outbox, sla_clocks, sla_timers
from shared.events import ActivityRecorded, CloudEvent, LeadRecycled, LeadRejected, SlaMet
from tests.db.test_sla_timers import MONDAY_10, NY, TOPICS, assign_leads, sla_parts

pytestmark = pytest.mark.db


def activity(
    lead_id: str, at: datetime, kind: str, event_id: str | None = None, **fields: object
) -> CloudEvent:
    payload = ActivityRecorded.model_validate({"kind": kind, "rep_id": "ana", **fields})
    return CloudEvent.wrap(payload, subject=lead_id, source="crm", time=at, event_id=event_id)


async def feed(sessions: async_sessionmaker[AsyncSession], clock: ManualClock, event: CloudEvent) -> bool:
    _, sla, _ = sla_parts(clock)
    handler = ActivityRecordedHandler(sessions, sla, TOPICS, on_commit=lambda: None)
    return await handler(event, event.payload(ActivityRecorded))


async def events_of(sessions: async_sessionmaker[AsyncSession], *types: str) -> list[CloudEvent]:
    async with sessions() as s:
        values = (await s.execute(select(outbox.c.value).order_by(outbox.c.id))).scalars().all()
    return [e for e in map(CloudEvent.from_bytes, values) if e.type in types]


async def feedback_decisions(sessions: async_sessionmaker[AsyncSession]) -> list[tuple[str, list[str]]]:
    async with sessions() as s:
        rows = (
            await s.execute(select(decisions).where(decisions.c.kind == "feedback").order_by(decisions.c.id))
        ).all()
    return [(r.outcome, [reason["code"] for reason in r.reasons]) for r in rows]


async def test_first_touch_stops_the_clock_with_business_and_wall_time(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    clock = ManualClock(MONDAY_10)
    (lead,) = await assign_leads(sessions, clock, 1)
    touched = MONDAY_10 + timedelta(minutes=3, seconds=20)
    clock.set(touched + timedelta(seconds=5))  # the activity arrives a little after it happened
    assert await feed(sessions, clock, activity(lead, touched, "first_touch", channel="call")) is True

    (met_event,) = await events_of(sessions, "sla.met")
    met = met_event.payload(SlaMet)
    assert met_event.time == touched  # event time is when the rep touched the lead
    assert (met.policy, met.stopped_by, met.within_target) == ("first-touch", "first_touch", True)
    assert (met.business_seconds, met.wall_seconds, met.target_seconds) == (200, 200, 300)
    assert (met.system_delay_seconds, met.rep_delay_seconds) == (2, 200)  # capture->assigned apart
    async with sessions() as s:
        states = dict((await s.execute(select(sla_clocks.c.policy, sla_clocks.c.status))).all())
        pending = (
            (await s.execute(select(sla_timers.c.key).where(sla_timers.c.state == "pending"))).scalars().all()
        )
    assert states == {"first-touch": "met", "accept-or-reject": "open"}
    assert sorted(pending) == ["breach", "escalation.0.notify_manager", "warning"]  # accept clock only

    # Nothing of the stopped clock fires later; the accept clock still does.
    _, _, ladder = sla_parts(clock)
    clock.set(MONDAY_10 + timedelta(days=2))
    loop = SlaTimerLoop(sessions, ladder, TOPICS)
    await loop.fire_due()
    assert loop.fired == 3
    assert [e.payload(SlaMet).policy for e in await events_of(sessions, "sla.met")] == ["first-touch"]
    assert {e.data["policy"] for e in await events_of(sessions, "sla.warning", "sla.breached")} == {
        "accept-or-reject"
    }


async def test_a_touch_across_the_weekend_counts_business_time_only(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    friday = datetime(2026, 3, 6, 16, 58, tzinfo=NY)
    clock = ManualClock(friday)
    (lead,) = await assign_leads(sessions, clock, 1)
    monday = datetime(2026, 3, 9, 9, 2, tzinfo=NY)  # DST began on Sunday the 8th
    clock.set(monday)
    await feed(sessions, clock, activity(lead, monday, "first_touch"))
    met = (await events_of(sessions, "sla.met"))[0].payload(SlaMet)
    assert (met.business_seconds, met.within_target) == (240, True)
    # Real seconds, not wall-clock difference: the spring-forward hour never happened.
    assert met.wall_seconds == 2 * 86400 + 15 * 3600 + 4 * 60


async def test_a_late_touch_is_met_out_of_target_and_an_early_one_counts_zero(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    clock = ManualClock(MONDAY_10)
    late_lead, early_lead = await assign_leads(sessions, clock, 2)
    _, _, ladder = sla_parts(clock)
    clock.set(MONDAY_10 + timedelta(minutes=7))
    await SlaTimerLoop(sessions, ladder, TOPICS).fire_due()  # warning, breach and remind fired
    await feed(sessions, clock, activity(late_lead, clock.now(), "first_touch"))
    # A CRM whose clock runs behind: the touch is dated before the assignment.
    await feed(sessions, clock, activity(early_lead, MONDAY_10 - timedelta(minutes=1), "first_touch"))
    late, early = (e.payload(SlaMet) for e in await events_of(sessions, "sla.met"))
    assert (late.within_target, late.business_seconds) == (False, 420)
    assert (early.within_target, early.business_seconds, early.wall_seconds) == (True, 0, 0)


async def test_accept_reject_and_recycle_by_reason(sessions: async_sessionmaker[AsyncSession]) -> None:
    clock = ManualClock(MONDAY_10)
    accepted, timing, other = await assign_leads(sessions, clock, 3)
    at = MONDAY_10 + timedelta(hours=1)
    clock.set(at)
    await feed(sessions, clock, activity(accepted, at, "accepted"))
    await feed(sessions, clock, activity(timing, at, "rejected", reason="timing"))
    await feed(sessions, clock, activity(other, at, "rejected", reason="duplicate"))

    produced = await events_of(sessions, "lead.accepted", "lead.rejected", "lead.recycled", "sla.met")
    by_lead = {lead: [e.type for e in produced if e.subject == lead] for lead in (accepted, timing, other)}
    # Accepting or rejecting stops both clocks (first-touch included: the rep acted on the lead).
    assert by_lead == {
        accepted: ["sla.met", "sla.met", "lead.accepted"],
        timing: ["sla.met", "sla.met", "lead.rejected", "lead.recycled"],
        other: ["sla.met", "sla.met", "lead.rejected"],
    }
    rejected = next(e for e in produced if e.type == "lead.rejected").payload(LeadRejected)
    recycled = next(e for e in produced if e.type == "lead.recycled").payload(LeadRecycled)
    assert (rejected.reason, rejected.rep_id, recycled.reason) == ("timing", "ana", "timing")
    async with sessions() as s:
        pending = (await s.execute(select(sla_timers).where(sla_timers.c.state == "pending"))).all()
    assert pending == []


async def test_odd_activities_are_explained_never_raised(sessions: async_sessionmaker[AsyncSession]) -> None:
    clock = ManualClock(MONDAY_10)
    (lead,) = await assign_leads(sessions, clock, 1)
    touch = activity(lead, MONDAY_10 + timedelta(minutes=1), "first_touch", event_id="touch-1")
    assert await feed(sessions, clock, touch) is True
    assert await feed(sessions, clock, touch) is False  # redelivery: a no-op
    assert await feed(sessions, clock, activity(lead, MONDAY_10, "first_touch")) is True  # a second touch
    assert await feed(sessions, clock, activity("lead-nobody", MONDAY_10, "accepted")) is True
    assert await feed(sessions, clock, activity(lead, MONDAY_10, "won", value=1200.0)) is True

    assert len(await events_of(sessions, "sla.met")) == 1
    assert await events_of(sessions, "lead.accepted") == []  # nothing said about an unknown lead
    assert await feedback_decisions(sessions) == [
        ("first_touch", ["sla_stopped"]),
        ("first_touch", ["no_open_clock"]),
        ("ignored", ["unknown_lead"]),
        ("won", ["sla_closed"]),  # the accept clock ends: the lead moved past it
    ]
