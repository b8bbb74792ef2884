"""Durable SLA timers on real databases: they survive a restart, never fire early, and fire
exactly once when two loops race over the same due rows (SKIP LOCKED on PostgreSQL, the
single-writer claim on SQLite). A ManualClock runs days of business time in milliseconds."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.router.domain.decision import Router
from services.router.domain.routing import teams_from_config
from services.router.domain.rules import RuleSet
from services.router.handlers import LeadCapturedHandler
from services.router.sla import ManualClock
from services.router.sla.ladder import Ladder
from services.router.sla.service import SlaService
from services.router.sla.setup import SlaSetup
from services.router.sla.timer_loop import SlaTimerLoop
from services.router.tables import outbox, sla_clocks, sla_timers
from shared.config import load_config
from shared.db import create_engine, create_session_factory
from shared.events import CloudEvent, LeadCaptured, LeadData, LeadReassigned, Topics

pytestmark = pytest.mark.db

NY = ZoneInfo("America/New_York")
# Monday 2 March 2026, 10:00 in New York: inbound-amer (calendar us-east, 09:00-17:00) is open.
MONDAY_10 = datetime(2026, 3, 2, 10, 0, tzinfo=NY)
TOPICS = Topics("t.")
CONFIG = load_config("examples/leadrelay.yaml")
# Per lead: first-touch (warning, breach, remind, reassign, notify_manager) and accept-or-reject
# (warning, breach, notify_manager).
TIMERS_PER_LEAD = 8


def sla_parts(clock: ManualClock) -> tuple[Router, SlaService, Ladder]:
    router = Router(RuleSet.from_config(CONFIG.qualification), teams_from_config(CONFIG.routing))
    sla = SlaService(SlaSetup.from_config(CONFIG), clock)
    return router, sla, Ladder(sla, router.teams)


async def assign_leads(
    sessions: async_sessionmaker[AsyncSession], clock: ManualClock, count: int, start: int = 0
) -> list[str]:
    """Capture `count` US leads (qualified, routed to inbound-amer); their SLA clocks start at clock.now()."""
    router, sla, _ = sla_parts(clock)
    handler = LeadCapturedHandler(sessions, router, TOPICS, on_commit=lambda: None, sla=sla)
    lead_ids = []
    for n in range(start, start + count):
        lead = LeadData(email=f"p{n}@acme.example", employees=500, country="US")
        payload = LeadCaptured(lead=lead, source="api", received_at=clock.now() - timedelta(seconds=2))
        event = CloudEvent.wrap(payload, subject=f"lead-{n}", source="test", time=clock.now())
        assert await handler(event, payload) is True
        lead_ids.append(f"lead-{n}")
    return lead_ids


async def outbox_types(sessions: async_sessionmaker[AsyncSession]) -> Counter[str]:
    async with sessions() as s:
        values = (await s.execute(select(outbox.c.value))).scalars().all()
    return Counter(CloudEvent.from_bytes(v).type for v in values)


TimerRow = tuple[str, str, datetime, datetime | None]


async def timer_rows(sessions: async_sessionmaker[AsyncSession]) -> list[TimerRow]:
    async with sessions() as s:
        rows = await s.execute(
            select(sla_timers.c.key, sla_timers.c.state, sla_timers.c.due_at, sla_timers.c.fired_at).order_by(
                sla_timers.c.due_at, sla_timers.c.id
            )
        )
        return [tuple(r) for r in rows]  # type: ignore[misc]


async def test_assignment_starts_clocks_with_their_timers(sessions: async_sessionmaker[AsyncSession]) -> None:
    clock = ManualClock(MONDAY_10)
    await assign_leads(sessions, clock, 1)
    rows = await timer_rows(sessions)
    local = [(key, due.astimezone(NY).strftime("%a %H:%M")) for key, _, due, _ in rows]
    assert local == [
        ("warning", "Mon 10:04"),  # 80% of 5 business minutes
        ("breach", "Mon 10:05"),
        ("escalation.0.remind", "Mon 10:05"),
        ("escalation.1.reassign", "Mon 10:10"),
        ("escalation.2.notify_manager", "Mon 10:20"),
        ("warning", "Mon 16:00"),  # accept-or-reject: 1d = 8 business hours, warned 2h before
        ("breach", "Tue 10:00"),
        ("escalation.0.notify_manager", "Tue 10:00"),
    ]
    assert {state for _, state, _, _ in rows} == {"pending"}
    assert (await outbox_types(sessions))["sla.started"] == 2


async def test_timers_survive_a_restart_and_never_fire_early(
    database_url: str, sessions: async_sessionmaker[AsyncSession]
) -> None:
    clock = ManualClock(MONDAY_10)
    await assign_leads(sessions, clock, 3)
    _, _, ladder = sla_parts(clock)
    first = SlaTimerLoop(sessions, ladder, TOPICS)
    clock.set(datetime(2026, 3, 2, 10, 4, 30, tzinfo=NY))
    assert await first.fire_due() == 3  # the three warnings, nothing else
    assert first.fired == 3

    # "Restart": a new engine, new sessions, a new loop instance with its own clock.
    engine = create_engine(database_url)
    try:
        restarted_sessions = create_session_factory(engine)
        clock2 = ManualClock(datetime(2026, 3, 2, 10, 4, 59, 999999, tzinfo=NY))
        _, _, ladder2 = sla_parts(clock2)
        second = SlaTimerLoop(restarted_sessions, ladder2, TOPICS, poll_interval_s=0.01)
        assert await second.fire_due() == 0  # one microsecond before the breach: nothing
        stop = asyncio.Event()
        task = asyncio.create_task(second.run(stop))
        clock2.set(datetime(2026, 3, 2, 10, 10, tzinfo=NY))  # breach, remind and reassign are due
        await _until(lambda: second.fired == 9)
        clock2.set(datetime(2026, 3, 4, 12, 0, tzinfo=NY))  # two days on: everything is due
        await _until(lambda: second.fired == 3 * (TIMERS_PER_LEAD - 1))
        await asyncio.sleep(0.1)  # a few more rounds: nothing more fires
        stop.set()
        await task
    finally:
        await engine.dispose()
    assert first.fired + second.fired == 3 * TIMERS_PER_LEAD
    rows = await timer_rows(sessions)
    assert [state for _, state, _, _ in rows] == ["fired"] * 3 * TIMERS_PER_LEAD
    assert all(fired is not None and fired >= due for _, _, due, fired in rows)
    types = await outbox_types(sessions)
    assert {t: types[t] for t in ("sla.warning", "sla.breached", "sla.escalated", "lead.reassigned")} == {
        "sla.warning": 6,
        "sla.breached": 6,
        "sla.escalated": 9,  # remind + two notify_manager per lead
        "lead.reassigned": 3,
    }


async def test_reassignment_moves_the_clock_to_the_next_rep(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    clock = ManualClock(MONDAY_10)
    await assign_leads(sessions, clock, 1)  # ana (first in rotation)
    _, _, ladder = sla_parts(clock)
    clock.set(datetime(2026, 3, 2, 10, 10, tzinfo=NY))
    await SlaTimerLoop(sessions, ladder, TOPICS).fire_due()
    async with sessions() as s:
        values = (await s.execute(select(outbox.c.value).order_by(outbox.c.id))).scalars().all()
        owner = (
            await s.execute(select(sla_clocks.c.rep_id).where(sla_clocks.c.policy == "first-touch"))
        ).scalar_one()
    events = [CloudEvent.from_bytes(v) for v in values]
    reassigned = next(e for e in events if e.type == "lead.reassigned").payload(LeadReassigned)
    assert (reassigned.previous_rep_id, reassigned.rep_id, owner) == ("ana", "ben", "ben")
    assert reassigned.reasons[0].code == "sla_escalation"
    assert reassigned.reasons[0].detail == {
        "policy": "first-touch",
        "step": 1,
        "action": "reassign",
        "clock_id": reassigned.reasons[0].detail["clock_id"],
    }
    assert reassigned.reasons[1].code == "round_robin"


async def test_two_loops_racing_fire_each_timer_exactly_once(
    database_url: str, sessions: async_sessionmaker[AsyncSession]
) -> None:
    clock = ManualClock(MONDAY_10)
    leads = 30
    await assign_leads(sessions, clock, leads)
    clock.set(datetime(2026, 3, 9, 12, 0, tzinfo=NY))  # a week later: every timer is due
    engines = [create_engine(database_url) for _ in range(2)]
    try:
        loops = []
        for engine in engines:
            _, _, ladder = sla_parts(clock)
            loops.append(SlaTimerLoop(create_session_factory(engine), ladder, TOPICS, batch_size=7))

        async def drain(loop: SlaTimerLoop) -> None:
            while await loop.fire_due():
                await asyncio.sleep(0)

        await asyncio.gather(*(drain(loop) for loop in loops))
    finally:
        for engine in engines:
            await engine.dispose()
    total = leads * TIMERS_PER_LEAD
    assert sum(loop.fired for loop in loops) == total
    assert [state for _, state, _, _ in await timer_rows(sessions)] == ["fired"] * total
    types = await outbox_types(sessions)
    assert types["sla.warning"] == types["sla.breached"] == 2 * leads
    assert types["sla.escalated"] == 3 * leads
    assert types["lead.reassigned"] == leads


async def _until(condition: object, timeout_s: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not condition():  # type: ignore[operator]
        assert asyncio.get_running_loop().time() < deadline, "timed out waiting for timers to fire"
        await asyncio.sleep(0.01)
