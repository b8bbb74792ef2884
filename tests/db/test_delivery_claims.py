"""Several deliverers on one database: leased claims. Two dispatchers racing over the same queue
deliver every message exactly once (counted by webhook-id), each lead's in order; a crashed
instance's claimed work waits for its lease, then the other delivers it; an at-most-once send
cut off by the crash is dead-lettered after the lease, not sent twice; a clean stop releases
its claims at once."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from services.delivery.claims_repository import ClaimRepository
from services.delivery.clock import ManualClock, SystemClock
from services.delivery.devreceiver import Received, Receiver, Reply
from services.delivery.operations import list_deliveries
from services.delivery.repository import DeliveryRepository
from services.delivery.tables import messages
from tests.integration.test_delivery_support import (
    SECRET,
    assigned,
    config_with,
    deliverer,
    endpoint,
)

pytestmark = pytest.mark.db
START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
LEASE_S = 20.0


@pytest.fixture(autouse=True)
def _secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("T_DELIVERY_SECRET", SECRET)


def _by_lead(received: list[Received]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = defaultdict(list)
    for request in received:
        event = json.loads(request.body)
        out[event["subject"]].append(event["id"])
    return out


async def test_two_dispatchers_deliver_each_message_once_in_order(database_url: str) -> None:
    receiver = Receiver(lambda _: Reply(200, delay_s=0.003))
    url = await receiver.start()
    config = config_with(deliveries=[endpoint("crm", url, concurrency=4)])
    events = [assigned(f"lead-{n % 15}", n) for n in range(150)]
    stop = asyncio.Event()
    try:
        async with (
            deliverer(database_url, config, SystemClock()) as a,
            deliverer(database_url, config, SystemClock()) as b,
        ):
            runs = [asyncio.create_task(d.dispatcher.run(stop)) for d in (a, b)]
            for n in range(0, len(events), 10):  # arriving while both send
                await a.feed_batch(*events[n : n + 10])
                await asyncio.sleep(0.02)
            async with asyncio.timeout(60):
                while a.dispatcher.delivered + b.dispatcher.delivered < len(events):
                    await asyncio.sleep(0.05)
            await asyncio.sleep(0.5)  # a second send of anything would land now
            stop.set()
            await asyncio.gather(*runs)
            split = (a.dispatcher.delivered, b.dispatcher.delivered)
            async with a.sessions() as session:
                counts = await DeliveryRepository(session).counts()
    finally:
        await receiver.stop()
    ids = Counter(r.headers["webhook-id"] for r in receiver.received)
    assert len(ids) == len(events) and set(ids.values()) == {1}, "a message sent twice, or never"
    assert sum(split) == len(events) and min(split) > 0, f"the work was not shared: {split}"
    assert counts == {"delivered": len(events)}
    published = _by_lead([Received("POST", "/", {}, e) for e in events])
    assert _by_lead(receiver.received) == published, "a lead's events out of order"


async def test_a_crashed_instances_claims_are_taken_over_after_the_lease(database_url: str) -> None:
    hang = True
    receiver = Receiver(lambda _: Reply(200, delay_s=30 if hang else 0))
    url = await receiver.start()
    config = config_with(deliveries=[endpoint("crm", url, concurrency=8)])
    clock = ManualClock(START)
    events = [assigned(f"lead-{n % 3}", n) for n in range(6)]
    try:
        async with deliverer(database_url, config, clock, lease_s=LEASE_S) as a:
            await a.feed_batch(*events)
            # A claims the lead heads and is cut off mid-send: no record, no release (a kill -9).
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(a.dispatcher.drain(), 0.5)
        first_sends = receiver.count
        hang = False
        async with deliverer(database_url, config, clock, lease_s=LEASE_S) as b:
            await b.dispatcher.drain()
            assert receiver.count == first_sends, "sent while another instance held the claim"
            clock.advance(LEASE_S - 1)
            await b.dispatcher.drain()
            assert receiver.count == first_sends, "taken over before the lease ran out"
            clock.advance(1)
            await b.dispatcher.drain()
            async with b.sessions() as session:
                counts = await DeliveryRepository(session).counts()
    finally:
        await receiver.stop()
    assert first_sends == 3, "A had sent each lead's first event when it died"
    assert counts == {"delivered": 6}
    taken_over = receiver.received[first_sends:]
    assert sorted(r.headers["webhook-id"] for r in taken_over) == sorted(
        json.loads(e)["id"] for e in events
    ), "every message once after the takeover (the cut-off ones again, same webhook-id)"
    assert _by_lead(taken_over) == _by_lead([Received("POST", "/", {}, e) for e in events])


async def test_an_interrupted_notification_is_dead_lettered_after_the_lease_not_resent(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    slack = Receiver(lambda _: Reply(200, delay_s=30))
    slack_url = await slack.start()
    monkeypatch.setenv("T_SLACK_ANA", f"{slack_url}/services/T000/B000/ana")
    contacts = {"ana": {"slack_webhook_env": "T_SLACK_ANA"}}
    config = config_with(notifications={"contacts": contacts, "assigned_delay_s": 0})
    clock = ManualClock(START)
    try:
        async with deliverer(database_url, config, clock, lease_s=LEASE_S) as a:
            await a.feed(assigned("lead-1"))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(a.dispatcher.drain(), 0.5)
        assert slack.count == 1
        async with deliverer(database_url, config, clock, lease_s=LEASE_S) as b:
            await b.dispatcher.recover()
            await b.dispatcher.drain()
            assert await list_deliveries(b.sessions, status="dead") == []
            clock.advance(LEASE_S)
            await b.dispatcher.recover()
            await b.dispatcher.drain()
            [dead] = await list_deliveries(b.sessions, status="dead")
    finally:
        await slack.stop()
    assert slack.count == 1, "a Slack message sent twice"
    assert dead.target == "slack:ana" and "interrupted mid-send" in (dead.last_error or "")


async def test_a_clean_stop_releases_what_it_claimed_and_did_not_send(database_url: str) -> None:
    receiver = Receiver()
    url = await receiver.start()
    config = config_with(deliveries=[endpoint("crm", url, concurrency=1)])
    clock = ManualClock(START)
    stop = asyncio.Event()
    try:
        async with deliverer(database_url, config, clock, lease_s=LEASE_S) as a:
            await a.feed_batch(*[assigned(f"lead-{n}", n) for n in range(4)])
            stop.set()  # stops before its first round's sends: all claimed, none sent
            await a.dispatcher.pump()
            await a.dispatcher.run(stop)
        sent_by_a = receiver.count
        async with deliverer(database_url, config, clock, lease_s=LEASE_S) as b:
            await b.dispatcher.drain()  # no clock advance: the claims were released
    finally:
        await receiver.stop()
    assert receiver.count == 4 and sent_by_a < 4


async def test_renewing_never_waits_for_a_row_being_recorded(database_url: str) -> None:
    """The lock race that once deadlocked a deliverer on PostgreSQL: its round renewing leases
    while its own group commit records attempts of the same rows in another order."""
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite has one writer: a second write transaction waits by design")
    receiver = Receiver(lambda _: Reply(200, delay_s=30))
    url = await receiver.start()
    config = config_with(deliveries=[endpoint("crm", url)])
    clock = ManualClock(START)
    try:
        async with deliverer(database_url, config, clock, lease_s=LEASE_S) as d:
            await d.feed_batch(assigned("lead-1", 0), assigned("lead-2", 1))
            async with d.sessions() as session, session.begin():
                claimed = await ClaimRepository(session).claim(
                    "webhook:crm", START, 10, owner="me", lease_until=START + timedelta(seconds=LEASE_S)
                )
            ids = [m.id for m in claimed]
            async with d.sessions() as recording, recording.begin():
                await recording.execute(
                    update(messages).where(messages.c.id.in_(ids)).values(updated_at=START)
                )  # rows locked, as by a record in progress
                async with d.sessions() as session, session.begin():
                    renew = ClaimRepository(session).renew(ids, "me", START + timedelta(hours=1))
                    await asyncio.wait_for(renew, 5)
    finally:
        await receiver.stop()
    assert len(ids) == 2
