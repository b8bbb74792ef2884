"""SIGKILL the router over and over under a stream of leads; and two routers at once on PostgreSQL.

Every MQL is assigned exactly once (one `lead.assigned` event id per lead, read back from the
handoffs topic), none is lost, and the round robin's durable counters keep the split exact.
"""

from __future__ import annotations

import asyncio
import random
import threading
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiokafka import ConsumerRecord

from services.devstack import ServiceProcess, start_service, stop_all, wait_ready
from shared.events import CloudEvent, LeadCaptured, LeadData, Topics
from shared.kafka.brokers import Broker
from tests.helpers.kafka_tools import read_until
from tests.helpers.stack import e2e_env

pytestmark = [pytest.mark.e2e, pytest.mark.kafka, pytest.mark.db]
KILLS = 20


def _lead(prefix: str, n: int) -> tuple[bytes, bytes]:
    now = datetime.now(UTC)
    lead = LeadData(email=f"p{n}@{prefix}acme.example", employees=300, country="US")
    event = CloudEvent.wrap(
        LeadCaptured(lead=lead, source="api", received_at=now), subject=f"storm-{n}", source="t", time=now
    )
    return f"storm-{n}".encode(), event.to_bytes()


def _stream(bootstrap: str, topic: str, prefix: str, count: int, rate: float, done: threading.Event) -> None:
    from aiokafka import AIOKafkaProducer

    async def run() -> None:
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=False)
        await producer.start()
        try:
            for n in range(count):
                key, value = _lead(prefix, n)
                await producer.send_and_wait(topic, value=value, key=key)
                await asyncio.sleep(1 / rate)
        finally:
            await producer.stop()
            done.set()

    asyncio.run(run())


def _check(records: list[ConsumerRecord[bytes, bytes]], leads: int) -> Counter[str]:
    events = [CloudEvent.from_bytes(r.value) for r in records]
    assigned: dict[str, set[str]] = defaultdict(set)
    for event in events:
        if event.type == "lead.assigned":
            assigned[event.subject].add(event.id)
    assert sorted(assigned) == sorted(f"storm-{n}" for n in range(leads)), "a lead was lost"
    twice = {lead: ids for lead, ids in assigned.items() if len(ids) > 1}
    assert not twice, f"leads assigned twice: {twice}"
    unique = {e.id: e for e in events}.values()
    return Counter(e.data["rep_id"] for e in unique if e.type == "lead.assigned")


def _all_assigned(leads: int):  # type: ignore[no-untyped-def]
    def done(records: list[ConsumerRecord[bytes, bytes]]) -> bool:
        events = (CloudEvent.from_bytes(r.value) for r in records)
        return len({e.subject for e in events if e.type == "lead.assigned"}) >= leads

    return done


@pytest.mark.pairwise
def test_router_killed_twenty_times_assigns_every_mql_exactly_once(
    broker: Broker, database_url: str, topic_prefix: str, tmp_path: Path
) -> None:
    leads, rng = 150, random.Random(6)
    env = e2e_env(broker.bootstrap, database_url, topic_prefix)
    topics = Topics(topic_prefix)
    router = start_service("router", env, tmp_path)
    services: list[ServiceProcess] = [router]
    done = threading.Event()
    try:
        wait_ready(services)  # topics exist (3 partitions) before the stream starts
        producer = threading.Thread(
            target=_stream, args=(broker.bootstrap, topics.lead_events, topic_prefix, leads, 12.0, done)
        )
        producer.start()
        for _ in range(KILLS):
            time.sleep(rng.uniform(0.3, 1.5))  # anywhere: starting, rebalancing, mid-batch, idle
            router.child.kill()  # SIGKILL to its process group
            services.remove(router)
            router = start_service("router", env, tmp_path)
            services.append(router)
        producer.join()
        records = asyncio.run(
            read_until(broker.bootstrap, topics.handoffs, _all_assigned(leads), timeout_s=180, settle_s=2)
        )
    finally:
        done.wait(5)
        stop_all(services)
    reps = _check(records, leads)
    assert set(reps.values()) == {leads // 3}, f"round robin drifted across kills: {reps}"


def test_two_routers_on_postgresql_route_each_lead_once_and_fairly(
    broker: Broker, database_url: str, topic_prefix: str, tmp_path: Path
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("several router instances need PostgreSQL (row locks)")
    leads = 120
    env = e2e_env(broker.bootstrap, database_url, topic_prefix)
    topics = Topics(topic_prefix)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    routers = [start_service("router", env, tmp_path / "a"), start_service("router", env, tmp_path / "b")]
    done = threading.Event()
    try:
        wait_ready(routers)
        _stream(broker.bootstrap, topics.lead_events, topic_prefix, leads, 200.0, done)
        records = asyncio.run(
            read_until(broker.bootstrap, topics.handoffs, _all_assigned(leads), timeout_s=120, settle_s=2)
        )
    finally:
        stop_all(routers)
    reps = _check(records, leads)
    assert set(reps.values()) == {leads // 3}, f"two instances broke the rotation: {reps}"
