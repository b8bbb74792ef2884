"""Pausing SLA clocks through the router's activity handler on real databases: a `stage_changed` to a
policy's `pause_on` stage pauses the lead's clocks with the stage as the reason, timers never fire
while paused, a later activity resumes them with every deadline moved by the paused business time,
and `sla.met` / `sla.breached` report the paused time."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.router.domain.decision import Router
from services.router.domain.routing import teams_from_config
from services.router.domain.rules import RuleSet
from services.router.handlers import ActivityRecordedHandler
from services.router.sla import ManualClock
from services.router.sla.ladder import Ladder
from services.router.sla.service import SlaService
from services.router.sla.setup import SlaSetup
from services.router.sla.timer_loop import SlaTimerLoop
from services.router.tables import sla_clocks, sla_timers
from shared.events import ActivityRecorded, CloudEvent, SlaBreached, SlaMet, SlaPaused, SlaResumed
from tests.db.test_feedback_loop import activity, events_of, feedback_decisions
from tests.db.test_sla_timers import CONFIG, MONDAY_10, NY, TOPICS, assign_leads

pytestmark = pytest.mark.db

PAUSING = CONFIG.model_copy(
    update={
        "sla": [p.model_copy(update={"pause_on": frozenset({"waiting_on_prospect"})}) for p in CONFIG.sla]
    }
)


def at(hour: int, minute: int = 0, second: int = 0, day: int = 2) -> datetime:
    return datetime(2026, 3, day, hour, minute, second, tzinfo=NY)


def parts(clock: ManualClock) -> tuple[SlaService, Ladder]:
    router = Router(RuleSet.from_config(PAUSING.qualification), teams_from_config(PAUSING.routing))
    sla = SlaService(SlaSetup.from_config(PAUSING), clock)
    return sla, Ladder(sla, router.teams)


async def feed(sessions: async_sessionmaker[AsyncSession], clock: ManualClock, event: CloudEvent) -> None:
    sla, _ = parts(clock)
    handler = ActivityRecordedHandler(sessions, sla, TOPICS, on_commit=lambda: None)
    assert await handler(event, event.payload(ActivityRecorded)) is True


async def fire(sessions: async_sessionmaker[AsyncSession], clock: ManualClock, now: datetime) -> int:
    clock.set(now)
    _, ladder = parts(clock)
    loop = SlaTimerLoop(sessions, ladder, TOPICS)
    while await loop.fire_due():
        pass
    return loop.fired


async def timer_states(sessions: async_sessionmaker[AsyncSession]) -> dict[str, tuple[str, str]]:
    """(policy-qualified key) -> (state, local due time) of every timer."""
    async with sessions() as s:
        rows = await s.execute(
            select(sla_clocks.c.policy, sla_timers.c.key, sla_timers.c.state, sla_timers.c.due_at).join(
                sla_clocks, sla_clocks.c.clock_id == sla_timers.c.clock_id
            )
        )
        return {f"{p}/{k}": (state, due.astimezone(NY).strftime("%a %H:%M")) for p, k, state, due in rows}


async def test_a_pause_holds_every_timer_and_the_resume_moves_them_by_the_paused_time(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    clock = ManualClock(MONDAY_10)
    (lead,) = await assign_leads(sessions, clock, 1)  # both clocks start Monday 10:00 New York

    clock.set(at(10, 2, 5))  # the CRM says so a few seconds after the rep set the stage
    await feed(sessions, clock, activity(lead, at(10, 2), "stage_changed", stage="waiting_on_prospect"))
    paused = [e.payload(SlaPaused) for e in await events_of(sessions, "sla.paused")]
    assert {(p.policy, p.reason, p.business_seconds, p.paused_at) for p in paused} == {
        ("first-touch", "waiting_on_prospect", 120, at(10, 2)),
        ("accept-or-reject", "waiting_on_prospect", 120, at(10, 2)),
    }
    assert {state for state, _ in (await timer_states(sessions)).values()} == {"paused"}

    # An hour later every original deadline has passed: nothing fires while paused.
    assert await fire(sessions, clock, at(11, 0)) == 0
    await feed(sessions, clock, activity(lead, at(10, 30), "stage_changed", stage="waiting_on_prospect"))

    clock.set(at(11, 2, 1))
    await feed(sessions, clock, activity(lead, at(11, 2), "stage_changed", stage="contacted"))
    resumed = {
        e.payload(SlaResumed).policy: e.payload(SlaResumed) for e in await events_of(sessions, "sla.resumed")
    }
    first = resumed["first-touch"]
    assert (first.reason, first.resumed_by, first.paused_at, first.resumed_at) == (
        "waiting_on_prospect",
        "contacted",
        at(10, 2),
        at(11, 2),
    )
    assert (first.paused_seconds, first.paused_business_seconds) == (3600, 3600)
    assert (first.warning_at, first.breach_at) == (at(11, 4), at(11, 5))
    assert resumed["accept-or-reject"].breach_at == at(11, day=3)  # 8 business hours + the hour paused
    assert await timer_states(sessions) == {
        "first-touch/warning": ("pending", "Mon 11:04"),
        "first-touch/breach": ("pending", "Mon 11:05"),
        "first-touch/escalation.0.remind": ("pending", "Mon 11:05"),
        "first-touch/escalation.1.reassign": ("pending", "Mon 11:10"),
        "first-touch/escalation.2.notify_manager": ("pending", "Mon 11:20"),
        "accept-or-reject/warning": ("pending", "Mon 17:00"),
        "accept-or-reject/breach": ("pending", "Tue 11:00"),
        "accept-or-reject/escalation.0.notify_manager": ("pending", "Tue 11:00"),
    }

    # Never early: one second before the moved breach only the moved warning fires.
    assert await fire(sessions, clock, at(11, 4, 59)) == 1
    assert await fire(sessions, clock, at(11, 5)) == 2  # breach and remind
    (breached,) = await events_of(sessions, "sla.breached")
    assert breached.payload(SlaBreached).paused_seconds == 3600

    clock.set(at(11, 6, 5))
    await feed(sessions, clock, activity(lead, at(11, 6), "first_touch", channel="call"))
    (met,) = [e.payload(SlaMet) for e in await events_of(sessions, "sla.met")]
    assert (met.business_seconds, met.wall_seconds, met.paused_seconds, met.within_target) == (
        360,
        3960,
        3600,
        False,
    )
    assert [codes for _, codes in await feedback_decisions(sessions)] == [
        ["sla_paused", "sla_paused"],
        ["already_paused", "already_paused"],
        ["sla_resumed", "sla_resumed"],
        ["sla_stopped"],
    ]
    async with sessions() as s:
        stored = dict((await s.execute(select(sla_clocks.c.policy, sla_clocks.c.pauses))).all())
    assert stored["first-touch"] == [[at(10, 2).isoformat(), at(11, 2).isoformat(), "waiting_on_prospect"]]


async def test_a_stop_while_paused_counts_up_to_the_pause_and_closes_it(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    clock = ManualClock(MONDAY_10)
    (lead,) = await assign_leads(sessions, clock, 1)
    clock.set(at(10, 1))
    await feed(sessions, clock, activity(lead, at(10, 1), "stage_changed", stage="waiting_on_prospect"))
    clock.set(at(12))
    await feed(sessions, clock, activity(lead, at(12), "accepted"))  # stops both clocks, paused
    met = {e.payload(SlaMet).policy: e.payload(SlaMet) for e in await events_of(sessions, "sla.met")}
    assert {p: (m.business_seconds, m.paused_seconds, m.within_target) for p, m in met.items()} == {
        "first-touch": (60, 7140, True),
        "accept-or-reject": (60, 7140, True),
    }
    assert {state for state, _ in (await timer_states(sessions)).values()} == {"cancelled"}
    async with sessions() as s:
        stored = (await s.execute(select(sla_clocks.c.pauses))).scalars().all()
    assert stored == [[[at(10, 1).isoformat(), at(12).isoformat(), "waiting_on_prospect"]]] * 2
    assert await fire(sessions, clock, at(9, day=9)) == 0


async def test_out_of_order_pauses_never_run_backwards(sessions: async_sessionmaker[AsyncSession]) -> None:
    clock = ManualClock(MONDAY_10)
    (lead,) = await assign_leads(sessions, clock, 1)
    clock.set(at(10, 3))
    # Dated before the clock started: the pause starts at the start. The resume is dated before the
    # pause it ends (it arrived late, out of order): a pause of zero length, the deadlines unmoved.
    await feed(sessions, clock, activity(lead, at(9, 50), "stage_changed", stage="waiting_on_prospect"))
    await feed(sessions, clock, activity(lead, at(9, 40), "stage_changed", stage="qualified"))
    resumed = [e.payload(SlaResumed) for e in await events_of(sessions, "sla.resumed")]
    assert {
        (r.paused_at, r.resumed_at, r.paused_seconds, r.breach_at)
        for r in resumed
        if r.policy == "first-touch"
    } == {(at(10), at(10), 0, at(10, 5))}
    # A stage that pauses nothing on a running clock changes nothing.
    await feed(sessions, clock, activity(lead, at(10, 3), "stage_changed", stage="qualified"))
    assert await fire(sessions, clock, at(10, 5)) == 3  # warning, breach, remind: on time
    assert (await timer_states(sessions))["first-touch/breach"] == ("fired", "Mon 10:05")
