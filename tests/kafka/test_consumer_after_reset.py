"""A consumer that lived through a broker reset commits nothing from the log the broker lost.

The embedded broker keeps everything in memory: killed and started again, it has new, empty
logs and no group offsets. A batch the loop fetched before the kill may finish after the loop has
rejoined the new broker; its offsets point into the old log. Committed there, they make the next
owner of the partition start past the new log's end and skip every record up to that offset
(seen in tests/e2e/test_broker_reset.py: leads accepted after the reset never routed).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer

from shared.kafka import Delivery, ensure_topics
from shared.kafka.brokers import Broker
from shared.kafka.embedded import EmbeddedBroker
from shared.kafka.membership import coordinator_connection, member_of_group
from tests.helpers.kafka_tools import TEST_SESSION_TIMEOUT_MS, committed, produce
from tests.kafka.test_consumer_loop import eventually, running

pytestmark = pytest.mark.kafka

OLD = 40  # records in the log the broker will lose
HOLD_AT = 5  # the handler holds on this one while the broker is reset


@dataclass
class OldLog:
    broker: EmbeddedBroker
    topic: str
    group: str

    async def reset(self) -> None:
        """Kill the broker and start it again empty (memory storage), the topics recreated."""
        self.broker.kill()
        self.broker.start()
        await ensure_topics(self.broker.bootstrap, [self.topic, self.topic + ".dlq"], partitions=1)


@dataclass
class HoldingHandler:
    """Records what it handled; holds on old-5 until released (old-0..4 done, not committed)."""

    held: asyncio.Event = field(default_factory=asyncio.Event)
    release: asyncio.Event = field(default_factory=asyncio.Event)
    seen: list[bytes] = field(default_factory=list)

    async def __call__(self, delivery: Delivery) -> None:
        assert delivery.value is not None
        if delivery.value == f"old-{HOLD_AT}".encode():
            self.held.set()
            await self.release.wait()
        self.seen.append(delivery.value)


@pytest.fixture
async def old_log(tmp_path: Path) -> AsyncIterator[OldLog]:
    # A broker of its own (the session's is shared): these tests kill it.
    broker = EmbeddedBroker(log_path=tmp_path / "broker.log")
    broker.start()
    log = OldLog(broker, f"reset-{uuid.uuid4().hex[:8]}", f"g-{uuid.uuid4().hex[:8]}")
    try:
        await ensure_topics(broker.bootstrap, [log.topic, log.topic + ".dlq"], partitions=1)
        await produce(broker.bootstrap, log.topic, [f"old-{i}".encode() for i in range(OLD)])
        yield log
    finally:
        broker.stop()


async def test_offsets_from_before_a_broker_reset_are_never_committed_after_it(old_log: OldLog) -> None:
    broker, topic, group, handler = old_log.broker, old_log.topic, old_log.group, HoldingHandler()
    async with running(broker, topic, group, handler) as (loop, _):
        await asyncio.wait_for(handler.held.wait(), 30)
        joins = loop.assignments
        await old_log.reset()

        async def rejoined() -> bool:
            return loop.assignments > joins

        await eventually(rejoined, timeout_s=30)
        released_at = time.monotonic()
        handler.release.set()  # the held record, and the old batch after it, end in the new term

        async def round_done() -> bool:  # the batch handled or given up, offsets committed
            return loop.last_round > released_at

        await eventually(round_done, timeout_s=30)
    # Stopped: whatever the loop was going to commit is committed.
    assert f"old-{HOLD_AT}".encode() in handler.seen

    # A restart of the service: the group resumes from what it committed on the new broker,
    # whose partition 0 holds what is produced now (offsets 0-2). An offset from the old log
    # (40) committed there would leave the restarted loop waiting at 40, past all of them.
    handler.seen.clear()
    async with running(broker, topic, group, handler):
        await produce(broker.bootstrap, topic, [f"new-{i}".encode() for i in range(3)], partition=0)

        async def new_ones_read() -> bool:
            return all(f"new-{i}".encode() in handler.seen for i in range(3))

        await eventually(new_ones_read, timeout_s=30)


async def test_a_commit_right_after_the_restart_does_not_reach_the_new_broker(old_log: OldLog) -> None:
    # The new broker stores a commit from a member it never saw (measured on Tansu), and aiokafka's
    # own commit retries over a new connection until it is answered: an offset of the lost log,
    # committed in the moment before the group notices the restart, would land there.
    broker, topic, group, handler = old_log.broker, old_log.topic, old_log.group, HoldingHandler()
    # A 10 s session: the group's heartbeat, every 2.5 s, is not what finds the restart first.
    async with running(broker, topic, group, handler, session_timeout_ms=10_000) as (loop, _):
        await asyncio.wait_for(handler.held.wait(), 30)  # offset 5 waits to be committed
        await old_log.reset()
        await loop.commit_processed()  # the round's commit, at the worst moment
        assert await committed(broker.bootstrap, group, topic) == [None]
        handler.release.set()


async def test_membership_is_read_off_the_client_as_aiokafka_keeps_it(broker: Broker) -> None:
    # `member_of_group` reads aiokafka's coordinator (no public accessor): this pins what it relies
    # on, so an aiokafka upgrade that moves it fails here rather than silently committing.
    topic = f"member-{uuid.uuid4().hex[:8]}"
    await ensure_topics(broker.bootstrap, [topic], partitions=1)
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=broker.bootstrap,
        group_id=f"g-{topic}",
        enable_auto_commit=False,
        session_timeout_ms=TEST_SESSION_TIMEOUT_MS,
    )
    assert not member_of_group(consumer)  # not started: no coordinator
    await consumer.start()
    try:
        deadline = asyncio.get_running_loop().time() + 30
        while not consumer.assignment():
            assert asyncio.get_running_loop().time() < deadline, "never joined the group"
            await consumer.getmany(timeout_ms=200)
        assert member_of_group(consumer)
        assert coordinator_connection(consumer) is not None
        # What `abandon` (shared/kafka/stall.py) falls back on when a stuck consumer's stop hangs.
        assert isinstance(consumer._coordinator._heartbeat_task, asyncio.Task)
        assert callable(consumer._client.close)
        consumer._coordinator.reset_generation()  # what aiokafka does when the broker forgot the member
        assert not member_of_group(consumer)
    finally:
        await consumer.stop()
