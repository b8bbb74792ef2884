"""Plain Kafka clients for tests: produce, read a topic, read a group's committed offsets."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition

from shared.kafka.readers import topic_reader

# The consumer tests' session timeout. Short: the embedded broker (Tansu) answers a group join
# after half the session timeout (measured: 10 s -> 5 s, 6 s -> 3 s, 2 s -> 1 s), and a killed
# member's partitions move when its session expires. The test Apache Kafka allows it
# (group.min.session.timeout.ms=1000 in shared/kafka/apache.py).
TEST_SESSION_TIMEOUT_MS = 2000


async def produce(
    bootstrap: str,
    topic: str,
    values: Sequence[bytes],
    key: bytes | None = None,
    partition: int | None = None,
) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=False)
    await producer.start()
    try:
        for value in values:
            await producer.send_and_wait(topic, value=value, key=key, partition=partition)
    finally:
        await producer.stop()


async def read_topic(
    bootstrap: str,
    topic: str,
    expect: int,
    timeout_s: float = 20.0,
) -> list[ConsumerRecord[bytes, bytes]]:
    """Read from the beginning until `expect` records arrived (or the timeout), without a group."""
    consumer = topic_reader(bootstrap, topic)
    await consumer.start()
    records: list[ConsumerRecord[bytes, bytes]] = []
    try:
        deadline = asyncio.get_running_loop().time() + timeout_s
        while len(records) < expect and asyncio.get_running_loop().time() < deadline:
            for batch in (await consumer.getmany(timeout_ms=200)).values():
                records.extend(batch)
    finally:
        await consumer.stop()
    return records


async def read_to_end(
    bootstrap: str, topic: str, timeout_s: float = 20.0
) -> list[ConsumerRecord[bytes, bytes]]:
    """Every record on the topic now: from the beginning up to each partition's end offset as of
    this call.

    For asserting that something did *not* happen. A write acknowledged (acks=all) before the call
    is below the end offset, so it is read; no wait for an absence is needed, where reading "until
    N records or a timeout" had to sit out the whole timeout to prove there was no N-th."""
    consumer = topic_reader(bootstrap, topic)  # subscribed without a group: every partition, once known
    await consumer.start()
    records: list[ConsumerRecord[bytes, bytes]] = []
    ends: dict[TopicPartition, int] = {}
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while not consumer.assignment():
            if loop.time() > deadline:
                raise AssertionError(f"{topic}: no partitions known on {bootstrap} after {timeout_s} s")
            for batch in (await consumer.getmany(timeout_ms=100)).values():
                records.extend(batch)
        partitions = sorted(consumer.assignment())
        ends = await consumer.end_offsets(partitions)
        behind = {tp for tp in partitions if await consumer.position(tp) < ends[tp]}
        while behind:
            if loop.time() > deadline:
                raise AssertionError(f"{topic}: could not read up to the end offsets {ends} in {timeout_s} s")
            for batch in (await consumer.getmany(*behind, timeout_ms=200)).values():
                records.extend(batch)
            behind = {tp for tp in behind if await consumer.position(tp) < ends[tp]}
    finally:
        await consumer.stop()
    return [r for r in records if r.offset < ends[TopicPartition(r.topic, r.partition)]]


async def committed(bootstrap: str, group: str, topic: str, partitions: int = 1) -> list[int | None]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        return [await consumer.committed(TopicPartition(topic, p)) for p in range(partitions)]
    finally:
        await consumer.stop()


async def wait_committed(
    bootstrap: str,
    group: str,
    topic: str,
    want: list[int],
    timeout_s: float = 30.0,
) -> list[int | None]:
    deadline = asyncio.get_running_loop().time() + timeout_s
    seen = await committed(bootstrap, group, topic, len(want))
    while seen != want and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.2)
        seen = await committed(bootstrap, group, topic, len(want))
    return seen


async def read_until(
    bootstrap: str,
    topic: str,
    done: Callable[[list[ConsumerRecord[bytes, bytes]]], bool],
    timeout_s: float = 60.0,
    settle_s: float = 1.0,
) -> list[ConsumerRecord[bytes, bytes]]:
    """Read from the beginning until `done(records)` (or the timeout), then `settle_s` more.

    For topics where the number of records is not the point (other event types may be added
    as features land): the caller says what must have arrived; the extra second catches
    duplicates that would follow.
    """
    consumer = topic_reader(bootstrap, topic)
    await consumer.start()
    records: list[ConsumerRecord[bytes, bytes]] = []
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while not done(records) and loop.time() < deadline:
            for batch in (await consumer.getmany(timeout_ms=200)).values():
                records.extend(batch)
        settled = loop.time() + settle_s
        while loop.time() < settled:
            for batch in (await consumer.getmany(timeout_ms=200)).values():
                records.extend(batch)
    finally:
        await consumer.stop()
    return records
