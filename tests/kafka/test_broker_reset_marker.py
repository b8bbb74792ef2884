"""What a broker that comes back different must not defeat: the reset marker is found on any
partition of the control topic, and a consumer picks up partitions a topic gained while it ran."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewPartitions

from shared.kafka import Delivery, ensure_topics
from shared.kafka.brokers import Broker
from shared.kafka.reset import marker_present, repair_topics
from tests.helpers.kafka_tools import produce
from tests.kafka.test_consumer_loop import eventually, running

pytestmark = pytest.mark.kafka


async def test_the_marker_counts_on_any_partition_of_the_control_topic(broker: Broker) -> None:
    # As the embedded broker auto-creates a topic a producer asked about: 4 partitions, not 1.
    topic = f"control.{uuid.uuid4().hex[:8]}"
    assert not await marker_present(broker.bootstrap, topic)  # no topic: a fresh (or reset) broker
    await ensure_topics(broker.bootstrap, [topic], partitions=4)
    assert not await marker_present(broker.bootstrap, topic)  # a topic, but empty
    await produce(broker.bootstrap, topic, [b"{}"], partition=2)
    assert await marker_present(broker.bootstrap, topic)


async def test_a_partition_added_while_running_is_consumed_within_seconds(broker: Broker) -> None:
    if broker.kind == "embedded":
        # Tansu has no CreatePartitions API: there, a topic changes its partition count only by
        # coming back auto-created after a reset (the race tests/e2e/test_broker_reset.py can meet).
        pytest.skip("the embedded broker cannot add partitions to a topic")
    topic = f"grow-{uuid.uuid4().hex[:8]}"
    await ensure_topics(broker.bootstrap, [topic, topic + ".dlq"], partitions=2)
    seen: list[bytes] = []

    async def handler(delivery: Delivery) -> None:
        seen.append(delivery.value)

    async with running(broker, topic, f"g-{topic}", handler) as (loop, _):
        await asyncio.wait_for(loop.ready.wait(), 30)
        admin = AIOKafkaAdminClient(bootstrap_servers=broker.bootstrap)
        await admin.start()
        try:
            await admin.create_partitions({topic: NewPartitions(total_count=3)})
        finally:
            await admin.close()
        await produce(broker.bootstrap, topic, [b"on-the-new-partition"], partition=2)

        async def read_it() -> bool:
            return b"on-the-new-partition" in seen

        await eventually(read_it, timeout_s=20)  # the metadata age (10 s), then a rebalance


async def test_a_topic_that_came_back_with_fewer_partitions_does_not_block_the_repair(broker: Broker) -> None:
    # After a reset the embedded broker may auto-create a topic with 4 partitions where LeadRelay
    # wants 6 (the default), and it cannot add partitions: the repair must go on to the republish.
    topic = f"short-{uuid.uuid4().hex[:8]}"
    await ensure_topics(broker.bootstrap, [topic], partitions=4)
    await repair_topics(broker.bootstrap, [topic], partitions=6)
    admin = AIOKafkaAdminClient(bootstrap_servers=broker.bootstrap)
    await admin.start()
    try:
        (described,) = await admin.describe_topics([topic])
    finally:
        await admin.close()
    # Apache Kafka grows it; the embedded broker keeps its 4 and the repair carries on.
    assert len(described["partitions"]) == (4 if broker.kind == "embedded" else 6)
