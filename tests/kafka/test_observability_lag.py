"""Consumer lag as Prometheus sees it: log end offsets minus a group's committed offsets."""

from __future__ import annotations

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.structs import OffsetAndMetadata

from shared.kafka.admin import ensure_topics
from shared.kafka.brokers import Broker
from shared.observability import measure_consumer_lag
from tests.helpers.kafka_tools import produce

pytestmark = pytest.mark.kafka


async def test_lag_is_log_end_minus_committed(broker: Broker, topic_prefix: str) -> None:
    topic, group = f"{topic_prefix}lag", f"{topic_prefix}group"
    await ensure_topics(broker.bootstrap, [topic], partitions=1)
    await produce(broker.bootstrap, topic, [b"a", b"b", b"c", b"d", b"e"])
    consumer = AIOKafkaConsumer(bootstrap_servers=broker.bootstrap, group_id=group, enable_auto_commit=False)
    await consumer.start()
    consumer.assign([TopicPartition(topic, 0)])
    try:
        await consumer.commit({TopicPartition(topic, 0): OffsetAndMetadata(2, "")})
    finally:
        await consumer.stop()
    lag = await measure_consumer_lag(broker.bootstrap, [group, f"{topic_prefix}idle"], [topic])
    assert lag == {(group, topic): 3}  # a group that never committed on the topic is not measured
