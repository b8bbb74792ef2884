"""Router persistence and the lead-captured handler against real databases."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.router.domain.decision import Router
from services.router.domain.routing import teams_from_config
from services.router.domain.rules import RuleSet
from services.router.handlers import LeadCapturedHandler
from services.router.repository import RouterRepository
from services.router.tables import decisions, outbox, rotation
from shared.config import load_config
from shared.events import CloudEvent, LeadAssigned, LeadCaptured, LeadData, LeadQueued, Topics

pytestmark = pytest.mark.db

EVENT_TIME = datetime(2026, 3, 2, 15, 30, tzinfo=UTC)


def captured(lead: LeadData, lead_id: str, event_id: str | None = None) -> tuple[CloudEvent, LeadCaptured]:
    payload = LeadCaptured(lead=lead, source="api", received_at=EVENT_TIME)
    return CloudEvent.wrap(
        payload, subject=lead_id, source="test", time=EVENT_TIME, event_id=event_id
    ), payload


def make_handler(sessions: async_sessionmaker[AsyncSession]) -> tuple[LeadCapturedHandler, list[int]]:
    config = load_config("examples/leadrelay.yaml")
    router = Router(RuleSet.from_config(config.qualification), teams_from_config(config.routing))
    wakeups: list[int] = []
    return LeadCapturedHandler(sessions, router, Topics("x."), on_commit=lambda: wakeups.append(1)), wakeups


async def test_claim_is_once_per_event(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as s, s.begin():
        assert await RouterRepository(s).claim("e-1") is True
    async with sessions() as s, s.begin():
        assert await RouterRepository(s).claim("e-1") is False
        assert await RouterRepository(s).claim("e-2") is True


async def test_rotation_starts_empty_and_advances(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as s, s.begin():
        repo = RouterRepository(s)
        assert await repo.lock_rotation("amer") is None
        await repo.advance_rotation("amer", "ben")
    async with sessions() as s, s.begin():
        assert await RouterRepository(s).lock_rotation("amer") == "ben"
        count = (
            await s.execute(select(rotation.c.assignments).where(rotation.c.team == "amer"))
        ).scalar_one()
    assert count == 1


async def test_qualified_lead_is_assigned_round_robin_with_reasons(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    handler, wakeups = make_handler(sessions)
    reps = []
    for n in range(6):
        event, payload = captured(
            LeadData(email=f"p{n}@acme.example", employees=500, country="US"), f"lead-{n}"
        )
        assert await handler(event, payload) is True
    async with sessions() as s:
        rows = (
            await s.execute(
                select(decisions).where(decisions.c.kind == "assignment").order_by(decisions.c.id)
            )
        ).all()
        reps = [r.rep_id for r in rows]
        assert rows[0].reasons[0]["code"] == "team_matched"
        assert rows[0].reasons[1]["code"] == "round_robin"
        assert rows[0].event_time == EVENT_TIME
        pending = (await s.execute(select(func.count()).select_from(outbox))).scalar_one()
    assert reps == ["ana", "ben", "chloe", "ana", "ben", "chloe"]
    assert pending == 12  # lead.qualified + lead.assigned per lead, waiting for the relay
    assert len(wakeups) == 6


async def test_redelivered_event_changes_nothing(sessions: async_sessionmaker[AsyncSession]) -> None:
    handler, _ = make_handler(sessions)
    event, payload = captured(
        LeadData(email="x@acme.example", employees=80, country="DE"), "lead-x", "evt-fixed"
    )
    assert await handler(event, payload) is True
    assert await handler(event, payload) is False
    async with sessions() as s:
        n_decisions = (await s.execute(select(func.count()).select_from(decisions))).scalar_one()
        values = (await s.execute(select(outbox.c.value).order_by(outbox.c.id))).scalars().all()
    assert n_decisions == 2
    assert len(values) == 2
    sent = [CloudEvent.from_bytes(v) for v in values]
    assert [e.type for e in sent] == ["lead.qualified", "lead.assigned"]
    assert all(e.subject == "lead-x" and e.time == EVENT_TIME for e in sent)
    assigned = sent[1].payload(LeadAssigned)
    assert (assigned.team, assigned.rep_id) == ("inbound-emea", "dmitri")


async def test_unqualified_lead_gets_no_assignment(sessions: async_sessionmaker[AsyncSession]) -> None:
    handler, _ = make_handler(sessions)
    event, payload = captured(LeadData(email="someone@gmail.com", employees=5000, country="US"), "lead-g")
    await handler(event, payload)
    async with sessions() as s:
        rows = (await s.execute(select(decisions.c.kind, decisions.c.outcome, decisions.c.rule))).all()
    assert [tuple(r) for r in rows] == [("qualification", "disqualified", "free-email-domain")]


async def test_nobody_eligible_is_queued_not_assigned(sessions: async_sessionmaker[AsyncSession]) -> None:
    """The fallback queue is not a rep: `lead.queued` with why, never `lead.assigned` to the queue."""
    config = load_config("examples/leadrelay.yaml")
    teams = [
        replace(t, reps=tuple(replace(r, active=False) for r in t.reps))
        for t in teams_from_config(config.routing)
    ]
    router = Router(RuleSet.from_config(config.qualification), teams)
    handler = LeadCapturedHandler(sessions, router, Topics("x."), on_commit=lambda: None)
    event, payload = captured(LeadData(email="q@acme.example", employees=500, country="US"), "lead-q")
    assert await handler(event, payload) is True
    async with sessions() as s:
        values = (await s.execute(select(outbox.c.value).order_by(outbox.c.id))).scalars().all()
        rows = (await s.execute(select(decisions.c.kind, decisions.c.outcome, decisions.c.rep_id))).all()
        rotated = (await s.execute(select(func.count()).select_from(rotation))).scalar_one()
    sent = [CloudEvent.from_bytes(v) for v in values]
    assert [e.type for e in sent] == ["lead.qualified", "lead.queued"]
    queued = sent[1].payload(LeadQueued)
    assert (queued.team, queued.queue) == ("inbound-amer", "unassigned")
    assert "no_eligible_rep" in [r.code for r in queued.reasons]
    assert [tuple(r) for r in rows] == [("qualification", "qualified", None), ("assignment", "queued", None)]
    assert rotated == 1  # the rotation row exists but did not advance
    async with sessions() as s:
        assert (await s.execute(select(rotation.c.last_rep_id))).scalar_one() is None


async def test_trace_context_travels_from_the_capture_to_every_handoff(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    handler, _ = make_handler(sessions)
    event, payload = captured(LeadData(email="t@acme.example", employees=500, country="US"), "lead-t")
    trace = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    assert await handler(event.model_copy(update={"traceparent": trace}), payload) is True
    async with sessions() as s:
        values = (await s.execute(select(outbox.c.value))).scalars().all()
    sent = [CloudEvent.from_bytes(v) for v in values]
    assert sent and {e.traceparent for e in sent} == {trace}
