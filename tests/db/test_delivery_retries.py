"""Retries on an injectable clock: Svix's schedule, never early, resumed (not reset) after a
restart, dead-lettered with every attempt; 410 disables; Retry-After honoured; replay; order."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from standardwebhooks import Webhook

from services.delivery.clock import ManualClock
from services.delivery.devreceiver import Receiver, Reply
from services.delivery.operations import list_deliveries, replay, show_delivery
from tests.integration.test_delivery_support import (
    SECRET,
    SECRET_NEXT,
    assigned,
    config_with,
    deliverer,
    endpoint,
)

pytestmark = pytest.mark.db
START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
SCHEDULE = [0, 5, 300, 1800, 7200, 18000, 36000, 36000]


@pytest.fixture(autouse=True)
def _secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("T_DELIVERY_SECRET", SECRET)


async def test_schedule_resumes_after_restart_never_early_then_dead_letters(database_url: str) -> None:
    receiver = Receiver(lambda _: Reply(500))
    url = await receiver.start()
    config = config_with(deliveries=[endpoint("crm", url)])
    clock = ManualClock(START)
    try:
        async with deliverer(database_url, config, clock) as d:
            await d.feed(assigned("lead-1"))
            await d.dispatcher.drain()
            assert receiver.count == 1  # now
            clock.advance(4.9)
            await d.dispatcher.drain()
            assert receiver.count == 1, "fired before its 5 s"
            clock.advance(0.1)
            await d.dispatcher.drain()
            assert receiver.count == 2
        # A restart: new engine, new dispatcher, the same schedule from the database.
        for n, delay in enumerate(SCHEDULE[2:], start=3):
            async with deliverer(database_url, config, clock) as d:
                clock.advance(delay - 1)
                await d.dispatcher.drain()
                assert receiver.count == n - 1, f"try {n} fired early after a restart"
                clock.advance(1)
                await d.dispatcher.drain()
                assert receiver.count == n, f"try {n} did not fire on time"
        async with deliverer(database_url, config, clock) as d:
            clock.advance(10 * 3600)
            await d.dispatcher.drain()
            assert receiver.count == 8, "nothing after the last try"
            [dead] = await list_deliveries(d.sessions, status="dead")
            detail = await show_delivery(d.sessions, dead.id)
    finally:
        await receiver.stop()
    assert detail is not None and detail.status == "dead" and detail.attempts == 8
    assert [a.status_code for a in detail.attempt_log] == [500] * 8
    assert [a.outcome for a in detail.attempt_log] == ["retry"] * 7 + ["dead"]
    assert all("500" in a.reason for a in detail.attempt_log)
    gaps = [
        (b.started_at - a.started_at).total_seconds()
        for a, b in zip(detail.attempt_log, detail.attempt_log[1:], strict=False)
    ]
    assert gaps == SCHEDULE[1:]
    ids = {r.headers["webhook-id"] for r in receiver.received}
    assert ids == {detail.webhook_id}, "one webhook-id across every retry"
    for request in receiver.received:
        Webhook(SECRET).verify(request.body, request.headers)


async def test_gone_disables_endpoint_and_replay_enables_it(database_url: str) -> None:
    answers = iter([Reply(410), Reply(200), Reply(200)])
    receiver = Receiver(lambda _: next(answers))
    url = await receiver.start()
    config = config_with(deliveries=[endpoint("crm", url, concurrency=1)])
    clock = ManualClock(START)
    try:
        async with deliverer(database_url, config, clock) as d:
            await d.feed(assigned("lead-1"), assigned("lead-2", 1))
            await d.dispatcher.drain()
            clock.advance(36000)
            await d.dispatcher.drain()
            dead = await list_deliveries(d.sessions, status="dead")
            assert receiver.count == 1, "stopped at once on 410, nothing more to that endpoint"
            assert len(dead) == 2 and {x.last_status for x in dead} <= {410, None}
            assert any("410" in (x.last_error or "") for x in dead)
            await d.feed(assigned("lead-3", 2))  # while disabled: recorded dead, never sent
            await d.dispatcher.drain()
            assert receiver.count == 1 and len(await list_deliveries(d.sessions, status="dead")) == 3
            assert await replay(d.sessions, clock.now(), target="webhook:crm") == 3
            receiver.respond = lambda _: Reply(200)
            await d.dispatcher.drain()
            assert receiver.count == 4
            assert await list_deliveries(d.sessions, status="dead") == []
    finally:
        await receiver.stop()


async def test_retry_after_on_429_is_honoured(database_url: str) -> None:
    answers = iter([Reply(429, {"Retry-After": "120"}), Reply(503, {"Retry-After": "1"}), Reply(200)])
    receiver = Receiver(lambda _: next(answers))
    url = await receiver.start()
    clock = ManualClock(START)
    try:
        async with deliverer(database_url, config_with(deliveries=[endpoint("crm", url)]), clock) as d:
            await d.feed(assigned("lead-1"))
            await d.dispatcher.drain()
            clock.advance(119)  # the schedule says 5 s; the endpoint said 120
            await d.dispatcher.drain()
            assert receiver.count == 1
            clock.advance(1)
            await d.dispatcher.drain()
            assert receiver.count == 2
            clock.advance(1)  # 503 asked for 1 s, sooner than the schedule's 5 min
            await d.dispatcher.drain()
            assert receiver.count == 3
            assert (await list_deliveries(d.sessions, status="delivered"))[0].attempts == 3
    finally:
        await receiver.stop()


async def test_one_leads_events_stay_in_order_behind_a_retry(database_url: str) -> None:
    fail_first = {"left": 1}

    def respond(request: object) -> Reply:
        if fail_first["left"]:
            fail_first["left"] -= 1
            return Reply(500)
        return Reply(200)

    receiver = Receiver(respond)
    url = await receiver.start()
    clock = ManualClock(START)
    config = config_with(deliveries=[endpoint("crm", url, secret_env=["T_DELIVERY_SECRET", "T_NEXT"])])
    try:
        import os

        os.environ["T_NEXT"] = SECRET_NEXT
        async with deliverer(database_url, config, clock) as d:
            await d.feed(assigned("lead-1", 0), assigned("lead-1", 1), assigned("lead-2", 2))
            await d.dispatcher.drain()
            got = [(r.headers["webhook-id"], r.body) for r in receiver.received]
            # lead-1's first failed; its second waits behind it; lead-2 is not held up.
            assert len(got) == 2
            clock.advance(5)
            await d.dispatcher.drain()
    finally:
        os.environ.pop("T_NEXT", None)
        await receiver.stop()
    subjects = [(r.headers["webhook-id"], _subject(r.body)) for r in receiver.received]
    lead1 = [wid for wid, subject in subjects if subject == "lead-1"]
    assert len(lead1) == 3 and lead1[0] == lead1[1] and lead1[2] != lead1[0], "lead-1 out of order"
    for request in receiver.received:  # rotation: either secret verifies
        Webhook(SECRET).verify(request.body, request.headers)
        Webhook(SECRET_NEXT).verify(request.body, request.headers)
        assert len(request.headers["webhook-signature"].split(" ")) == 2


def _subject(body: bytes) -> str:
    import json

    return str(json.loads(body)["subject"])
