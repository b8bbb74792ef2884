"""The producer's partitioner: Kafka's murmur2 as aiokafka computes it, so every key keeps its partition
(one lead's events stay in order on one partition whichever LeadRelay version or Kafka client wrote them)."""

from __future__ import annotations

import os
import uuid

import pytest
from aiokafka.partitioner import DefaultPartitioner
from aiokafka.partitioner import murmur2 as aiokafka_murmur2
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.kafka import EventProducer, ensure_topics
from shared.kafka.brokers import Broker
from shared.kafka.producer import OutgoingMessage, murmur2, partition_by_key
from tests.helpers.kafka_tools import read_topic


@pytest.mark.unit
@given(st.binary(max_size=300))
@settings(max_examples=2000, deadline=None)
def test_murmur2_is_kafkas(data: bytes) -> None:
    assert murmur2(data) == aiokafka_murmur2(data)


@pytest.mark.unit
def test_every_length_and_known_values() -> None:
    for length in range(64):
        data = os.urandom(length)
        assert murmur2(data) == aiokafka_murmur2(data)
    # The Java client's published test values (org.apache.kafka.common.utils.UtilsTest#testMurmur2).
    assert murmur2(b"21") == 0xFFFFFFFF & -973932308
    assert murmur2(b"foobar") == 0xFFFFFFFF & -790332482
    assert murmur2(b"a-little-bit-long-string") == 0xFFFFFFFF & -985981536
    assert murmur2(b"a-little-bit-longer-string") == 0xFFFFFFFF & -1486304829
    assert murmur2(b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8") == 0xFFFFFFFF & -58897971
    assert murmur2(b"abc") == 0xFFFFFFFF & 479470107


@pytest.mark.unit
def test_a_key_lands_where_the_default_partitioner_puts_it() -> None:
    for _ in range(500):
        key = str(uuid.uuid4()).encode()
        for count in (1, 2, 3, 12):
            partitions = list(range(count))
            assert partition_by_key(key, partitions, partitions) == DefaultPartitioner()(
                key, partitions, partitions
            )
    assert partition_by_key(None, [0, 1, 2], [1]) == 1  # keyless: an available partition


@pytest.mark.kafka
async def test_one_leads_records_share_a_partition_on_the_broker(broker: Broker) -> None:
    topic = f"t-{uuid.uuid4().hex[:10]}"
    await ensure_topics(broker.bootstrap, [topic], partitions=3)
    producer = EventProducer(broker.bootstrap, client_id="test-partitioner")
    keys = [f"lead-{n}".encode() for n in range(12)]
    try:
        for round_ in range(2):
            for key in keys:
                await producer.publish(OutgoingMessage(topic, key, str(round_).encode()))
    finally:
        await producer.stop()
    records = await read_topic(broker.bootstrap, topic, expect=24)
    placed: dict[bytes, set[int]] = {}
    for record in records:
        assert record.key is not None
        placed.setdefault(record.key, set()).add(record.partition)
    assert {k: p for k, p in placed.items()} == {
        k: {DefaultPartitioner()(k, [0, 1, 2], [0, 1, 2])} for k in keys
    }


@pytest.mark.kafka
async def test_the_partition_list_cache_follows_metadata_refreshes(broker: Broker) -> None:
    """The producer keeps a topic's sorted partitions keyed by aiokafka's per-topic dict, which
    aiokafka replaces on every metadata refresh (pinned here: the cache relies on it)."""
    topic = f"t-{uuid.uuid4().hex[:10]}"
    await ensure_topics(broker.bootstrap, [topic], partitions=3)
    producer = EventProducer(broker.bootstrap, client_id="test-partition-cache")
    try:
        await producer.publish(OutgoingMessage(topic, b"lead-1", b"v"))
        inner = producer._producer
        assert inner is not None
        known = inner._metadata._partitions[topic]
        assert inner._partition_lists[topic] == (known, [0, 1, 2])
        await inner.client.force_metadata_update()
        assert inner._metadata._partitions[topic] is not known  # a refresh makes a new dict
        await producer.publish(OutgoingMessage(topic, b"lead-2", b"v"))
        assert inner._partition_lists[topic][0] is inner._metadata._partitions[topic]
    finally:
        await producer.stop()
