"""kill -9 the deliverer under a stream of handoffs: the receiver's ledger holds every event,
none missing; a duplicate (the send in flight at the kill) carries the same webhook-id. The same
with two deliverers on one database, one killed and not restarted: the other takes its partitions
over (the consumer group) and its claimed messages (when their lease runs out)."""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from pathlib import Path

import pytest
import yaml
from aiokafka import AIOKafkaProducer
from standardwebhooks import Webhook

from services.delivery.devreceiver import Receiver, Reply
from services.devstack import ServiceProcess, start_service, stop_all, wait_ready
from shared.events import Topics
from shared.kafka.brokers import Broker
from tests.helpers.stack import e2e_env
from tests.integration.test_delivery_support import SECRET, assigned, config_dict, endpoint

pytestmark = [pytest.mark.e2e, pytest.mark.kafka, pytest.mark.db, pytest.mark.pairwise]
EVENTS = 120


async def test_deliverer_killed_mid_stream_loses_nothing(
    broker: Broker, database_url: str, topic_prefix: str, tmp_path: Path
) -> None:
    receiver = Receiver(lambda _: Reply(200, delay_s=0.005))
    url = await receiver.start()
    config = tmp_path / "leadrelay.yaml"
    config.write_text(yaml.safe_dump(config_dict(deliveries=[endpoint("crm", url, concurrency=4)])))
    env = {
        **e2e_env(broker.bootstrap, database_url, topic_prefix),
        "LEADRELAY_CONFIG": str(config),
        "T_DELIVERY_SECRET": SECRET,
        # What the killed process had claimed is taken over when its lease runs out: short here.
        "LEADRELAY_DELIVERY_LEASE_S": "3",
    }
    topic = Topics(topic_prefix).handoffs
    services: list[ServiceProcess] = []
    producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap, acks="all", enable_idempotence=False)
    expected: set[str] = set()
    try:
        services.append(start_service("delivery", env, tmp_path))
        await asyncio.to_thread(wait_ready, services)
        await producer.start()
        for n in range(EVENTS):
            value = assigned(f"lead-{n % 37}", n)
            expected.add(json.loads(value)["id"])
            await producer.send_and_wait(topic, value=value, key=f"lead-{n % 37}".encode())
            await asyncio.sleep(0.01)
            if n == 60:  # a crash mid-stream, sends in flight; a new process takes over
                services.pop().child.kill()
                services.append(start_service("delivery", env, tmp_path))
        deadline = asyncio.get_running_loop().time() + 75
        while asyncio.get_running_loop().time() < deadline:
            if expected <= {r.headers["webhook-id"] for r in receiver.received}:
                break
            await asyncio.sleep(0.2)
        await asyncio.sleep(1.0)  # anything sent twice would land now
    finally:
        await producer.stop()
        await asyncio.to_thread(stop_all, services)
        await receiver.stop()
    _check_ledger(receiver, expected)


async def test_two_deliverers_one_killed_the_other_takes_over(
    broker: Broker, database_url: str, topic_prefix: str, tmp_path: Path
) -> None:
    receiver = Receiver(lambda _: Reply(200, delay_s=0.005))
    url = await receiver.start()
    config = tmp_path / "leadrelay.yaml"
    config.write_text(yaml.safe_dump(config_dict(deliveries=[endpoint("crm", url, concurrency=4)])))
    env = {
        **e2e_env(broker.bootstrap, database_url, topic_prefix),
        "LEADRELAY_CONFIG": str(config),
        "T_DELIVERY_SECRET": SECRET,
        "LEADRELAY_DELIVERY_LEASE_S": "3",
    }
    topic = Topics(topic_prefix).handoffs
    services: list[ServiceProcess] = []
    producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap, acks="all", enable_idempotence=False)
    expected: set[str] = set()
    try:
        for name in ("a", "b"):  # one consumer group, one database: two instances of one deliverer
            (tmp_path / name).mkdir()
            services.append(start_service("delivery", env, tmp_path / name))
        await asyncio.to_thread(wait_ready, services)
        await producer.start()
        for n in range(EVENTS):
            value = assigned(f"lead-{n % 37}", n)
            expected.add(json.loads(value)["id"])
            await producer.send_and_wait(topic, value=value, key=f"lead-{n % 37}".encode())
            await asyncio.sleep(0.01)
            if n == 60:  # one instance dies mid-stream, sends in flight, claims held; no restart
                services[0].child.kill()
        deadline = asyncio.get_running_loop().time() + 90
        while asyncio.get_running_loop().time() < deadline:
            if expected <= {r.headers["webhook-id"] for r in receiver.received}:
                break
            await asyncio.sleep(0.2)
        await asyncio.sleep(1.0)  # anything sent twice would land now
    finally:
        await producer.stop()
        await asyncio.to_thread(stop_all, services)
        await receiver.stop()
    _check_ledger(receiver, expected)


def _check_ledger(receiver: Receiver, expected: set[str]) -> None:
    """Every event arrived, verified; a duplicate has the same webhook-id and body; each lead's
    first deliveries in publish order."""
    by_id: dict[str, list[bytes]] = defaultdict(list)
    for request in receiver.received:
        Webhook(SECRET).verify(request.body, request.headers)
        by_id[request.headers["webhook-id"]].append(request.body)
        assert json.loads(request.body)["id"] == request.headers["webhook-id"]
    missing = expected - set(by_id)
    assert not missing, f"{len(missing)} handoffs never delivered"
    assert set(by_id) == expected, "something delivered that was never published"
    assert all(len(set(bodies)) == 1 for bodies in by_id.values()), "a duplicate with a different body"
    # Per lead, first deliveries arrive in publish order (event times increase as published).
    first: dict[str, list[str]] = defaultdict(list)
    seen: set[str] = set()
    for request in receiver.received:
        event = json.loads(request.body)
        if event["id"] not in seen:
            seen.add(event["id"])
            first[event["subject"]].append(event["time"])
    assert all(times == sorted(times) for times in first.values()), "a lead's events out of order"
