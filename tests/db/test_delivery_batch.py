"""A poll batch stored in one transaction: every event's messages in order, deduplicated on
redelivery, disabled targets dead-lettered, the lead cache merged; bad bytes fail the whole
batch before anything is written (the consumer loop then goes one by one)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from services.delivery.clock import ManualClock
from services.delivery.devreceiver import Receiver
from services.delivery.repository import DeliveryRepository
from shared.events import SlaStarted
from shared.kafka.records import PermanentError
from tests.integration.test_delivery_support import (
    SECRET,
    assigned,
    captured,
    config_with,
    deliverer,
    endpoint,
    record,
    wrap,
)

pytestmark = pytest.mark.db
START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("T_DELIVERY_SECRET", SECRET)


def _sla_started(lead_id: str) -> bytes:
    payload = SlaStarted(
        clock_id="c1", policy="first-touch", target="first_touch", team="inbound-amer", rep_id="ana",
        started_at=START, target_seconds=300, warning_at=None, breach_at=START + timedelta(minutes=5),
        timezone="America/New_York", system_delay_seconds=0,
    )  # fmt: skip
    return wrap(payload, lead_id, f"{lead_id}/sla", START)


async def test_a_batch_keeps_order_dedupes_and_skips_disabled_targets(database_url: str) -> None:
    receiver = Receiver()
    url = await receiver.start()
    config = config_with(deliveries=[endpoint("crm", url, concurrency=4), endpoint("off", url)])
    clock = ManualClock(START)
    batch = [
        captured("lead-1", first_name="Grace", last_name="Hopper", company="Navy"),
        assigned("lead-1", 0),
        assigned("lead-2", 0),
        assigned("lead-1", 1),
        _sla_started("lead-1"),
        assigned("lead-1", 2),
    ]
    try:
        async with deliverer(database_url, config, clock) as d:
            async with d.sessions() as session, session.begin():
                await DeliveryRepository(session).disable_target("webhook:off", "410 earlier", START)
            await d.feed_batch(*batch)
            await d.feed_batch(*batch)  # redelivered after a crash before the offset commit
            async with d.sessions() as session:
                repo = DeliveryRepository(session)
                counts = await repo.counts()
                lead = await repo.lead("lead-1")
            await d.dispatcher.drain()
    finally:
        await receiver.stop()
    # 5 handoffs (sla.started too) x 2 endpoints; the disabled endpoint's are dead at once.
    assert counts == {"pending": 5, "dead": 5}
    assert lead is not None and lead["person"]["company"] == "Navy"
    assert lead["facts"]["sla_timezone"] == "America/New_York"
    bodies = [json.loads(r.body) for r in receiver.received]
    assert len(bodies) == 5 and len({r.headers["webhook-id"] for r in receiver.received}) == 5
    types = [b["type"] for b in bodies if b["subject"] == "lead-1"]
    assert types == ["lead.assigned", "lead.assigned", "sla.started", "lead.assigned"]
    order = [b["id"] for b in bodies if b["subject"] == "lead-1"]
    sent = [json.loads(v)["id"] for v in batch[1:] if json.loads(v)["subject"] == "lead-1"]
    assert order == sent, "one lead's events reach the endpoint in the order consumed"


async def test_bad_bytes_fail_the_batch_before_anything_is_written(database_url: str) -> None:
    receiver = Receiver()
    url = await receiver.start()
    config = config_with(deliveries=[endpoint("crm", url)])
    try:
        async with deliverer(database_url, config, ManualClock(START)) as d:
            with pytest.raises(PermanentError):
                await d.batch([record(assigned("lead-1", 0), 0), record(b"not json", 1)])
            async with d.sessions() as session:
                assert await DeliveryRepository(session).counts() == {}
            await d.feed(assigned("lead-1", 0))  # the one-by-one path stores the good one
            async with d.sessions() as session:
                assert await DeliveryRepository(session).counts() == {"pending": 1}
    finally:
        await receiver.stop()
