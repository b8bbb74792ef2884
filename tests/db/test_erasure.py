"""Each consumer's erasure against real databases (SQLite, and PostgreSQL when configured): the
person's values are nowhere in the service's tables afterwards, another person is untouched, and
what metrics counts is the same."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from services.delivery.erasure import DeliveryEraser
from services.delivery.repository import DeliveryRepository, NewMessage
from services.metrics.erasure import MetricsEraser
from services.metrics.handlers import projector
from services.metrics.replay import replay
from services.metrics.tables import contacts, events, lead_stages, leads
from services.router.erasure import PersonErasedHandler
from services.router.tables import outbox, profiles
from shared.db.migrate import migrate_service
from shared.events import (
    CloudEvent,
    LeadData,
    LeadErased,
    LeadQualified,
    PersonErased,
    Reason,
    Topics,
)
from tests.db.test_router_repository import captured, make_handler
from tests.helpers.pii import find_values

pytestmark = pytest.mark.db

NOW = datetime.now(UTC)
ADA = LeadData(
    email="ada.novakova+forms@northwind.example",
    first_name="Adelheid",
    last_name="Novakova",
    phone="+1 555 010 0199",
    company="Northwind Traders",
    employees=900,
    country="US",
)
ADA_VALUES = ("ada.novakova", "Adelheid", "Novakova", "555 010 0199", "5550100199")
BEN = LeadData(email="ben.okafor@contoso.example", first_name="Benedikt", company="Contoso", country="US")


def person_erased(lead_id: str, erasure_id: str = "erasure-1") -> tuple[CloudEvent, PersonErased]:
    payload = PersonErased(erasure_id=erasure_id, requested_at=NOW)
    event = CloudEvent.wrap(
        payload, subject=lead_id, source="leadrelay/ingest", time=NOW, event_id=f"pe-{erasure_id}-{lead_id}"
    )
    return event, payload


async def test_router_forgets_the_person_behind_every_lead_and_tells_handoffs(
    sessions: async_sessionmaker[AsyncSession], engine: AsyncEngine
) -> None:
    routing, _ = make_handler(sessions)
    # Two forms from Ada (one person, one profile, two leads), one from Ben.
    await routing.handle_batch([captured(ADA, "lead-a1"), captured(BEN, "lead-b1")])
    later = ADA.model_copy(update={"email": "Ada.Novakova@northwind.example"})
    await routing.handle_batch([captured(later, "lead-a2")])
    assert set(await find_values(engine, ADA_VALUES)) >= {"router_profiles", "router_decisions"}

    wakeups: list[int] = []
    erase = PersonErasedHandler(sessions, Topics("x."), on_commit=lambda: wakeups.append(1))
    assert await erase(*person_erased("lead-a2")) is True
    assert await erase(*person_erased("lead-a2")) is False  # a redelivery: the inbox drops it

    assert await find_values(engine, ADA_VALUES) == {}
    assert set(await find_values(engine, ["ben.okafor", "Benedikt"])) >= {
        "router_profiles",
        "router_decisions",
    }
    async with sessions() as s:
        people = (await s.execute(select(profiles.c.profile_key))).scalars().all()
        followed = (
            await s.execute(select(outbox.c.key, outbox.c.value).where(outbox.c.topic == "x.handoffs"))
        ).all()
    assert people == ["email:ben.okafor@contoso.example"]
    erased = [CloudEvent.from_bytes(v) for _, v in followed if b"lead.erased" in v]
    # Both of Ada's leads follow (the sibling found through the profile), keyed by lead id.
    assert sorted(e.subject for e in erased) == ["lead-a1", "lead-a2"]
    assert {e.payload(LeadErased).erasure_id for e in erased} == {"erasure-1"}
    assert wakeups == [1]
    # The outbox rows of Ada's earlier handoffs still parse as the events they were.
    for key, value in followed:
        if key in ("lead-a1", "lead-a2"):
            CloudEvent.from_bytes(value).typed()


async def _counts(sessions: async_sessionmaker[AsyncSession]) -> tuple[int, int, int]:
    async with sessions() as s:
        return (
            (await s.execute(select(func.count()).select_from(events))).scalar_one(),
            (await s.execute(select(func.count()).select_from(leads))).scalar_one(),
            (await s.execute(select(func.count()).select_from(lead_stages))).scalar_one(),
        )


def qualified(lead_id: str, lead: LeadData) -> tuple[CloudEvent, LeadQualified]:
    payload = LeadQualified(
        decision_id=f"d-{lead_id}",
        source="api",
        ruleset_version="v1",
        rule="icp",
        reasons=[Reason(code="rule_matched", message=f"{lead.first_name} matched", detail={"rule": "icp"})],
        decided_at=NOW,
    )
    return CloudEvent.wrap(payload, subject=lead_id, source="leadrelay/router", time=NOW), payload


async def test_metrics_drops_the_contact_keeps_the_counts_and_replay_does_not_bring_it_back(
    sessions: async_sessionmaker[AsyncSession], engine: AsyncEngine
) -> None:
    project = projector(sessions)
    for lead, lead_id in ((ADA, "lead-a1"), (BEN, "lead-b1")):
        event, payload = captured(lead, lead_id)
        await project(event, payload)
        await project(*qualified(lead_id, lead))  # a reason quoting the name: scrubbed too
    before = await _counts(sessions)
    assert "metrics_contacts" in await find_values(engine, ADA_VALUES)

    eraser = MetricsEraser(sessions)
    follow = LeadErased(erasure_id="erasure-1", requested_at=NOW, erased_at=NOW)
    assert await eraser(*person_erased("lead-a1")) is True
    assert await eraser(CloudEvent.wrap(follow, subject="lead-a1", source="r", time=NOW), follow) is True

    assert await find_values(engine, ADA_VALUES) == {}
    assert await _counts(sessions) == before
    async with sessions() as s:
        left = (await s.execute(select(contacts.c.lead_id))).scalars().all()
    assert left == ["lead-b1"]
    await replay(sessions)  # refolds from the PII-free fact log: the contact stays gone
    assert await _counts(sessions) == before
    assert await find_values(engine, ADA_VALUES) == {}


async def test_delivery_forgets_the_lead_cache_and_scrubs_stored_bodies(
    sessions: async_sessionmaker[AsyncSession], engine: AsyncEngine
) -> None:
    await migrate_service(engine, "delivery")
    assigned_body = (
        b'{"specversion":"1.0","id":"h1","source":"leadrelay/router","type":"lead.assigned",'
        b'"time":"2026-03-02T15:30:00Z","subject":"lead-a1","data":{"decision":{"profile":'
        b'{"key":"email:ada.novakova@northwind.example"}},"reasons":[{"message":"Adelheid"}]}}'
    )
    async with sessions() as s, s.begin():
        repo = DeliveryRepository(s)
        person = {"first_name": "Adelheid", "last_name": "Novakova", "company": "Northwind Traders"}
        await repo.remember_lead("lead-a1", {"source": "api", "person": person}, NOW)
        await repo.remember_lead("lead-b1", {"source": "api", "person": {"first_name": "Benedikt"}}, NOW)
        await repo.enqueue(
            [
                NewMessage("m1", "h1", "webhook:crm", "lead-a1", "lead.assigned", assigned_body, NOW),
                NewMessage("m2", "h2", "webhook:crm", "lead-b1", "lead.assigned", b'{"x":"Benedikt"}', NOW),
            ],
            NOW - timedelta(seconds=1),
        )
    assert set(await find_values(engine, ADA_VALUES)) == {"delivery_leads", "delivery_messages"}

    assert await DeliveryEraser(sessions)(*person_erased("lead-a1")) is True
    assert await find_values(engine, ADA_VALUES) == {}
    assert set(await find_values(engine, ["Benedikt"])) == {"delivery_leads", "delivery_messages"}
    async with sessions() as s:
        stored = await DeliveryRepository(s).list_messages(status=None, target=None, limit=10)
    body = CloudEvent.from_bytes(next(m.body for m in stored if m.lead_id == "lead-a1"))
    assert (body.type, body.subject) == ("lead.assigned", "lead-a1")  # still sendable, erased
