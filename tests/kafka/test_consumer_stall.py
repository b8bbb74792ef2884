"""A member whose rejoin is never answered is replaced, and nothing is lost (shared/kafka/stall.py).

While the group rebalances, aiokafka's poll waits for the new assignment without limit. Here a
proxy in front of the embedded broker drops every JoinGroup of the loop's member, so its rejoin
hangs as it did once after a broker reset: without the stall bound the loop never polls again.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from shared.kafka import Delivery, ensure_topics
from shared.kafka.embedded import EmbeddedBroker
from shared.kafka.process import free_port
from shared.kafka.stall import default_poll_stall_s, request_timeout_ms
from tests.helpers.kafka_proxy import KafkaProxy, join_group_member
from tests.helpers.kafka_tools import TEST_SESSION_TIMEOUT_MS, committed, produce
from tests.kafka.test_consumer_loop import eventually, running

pytestmark = pytest.mark.kafka

STALL_S = 3.0


@pytest.fixture
async def proxied(tmp_path: Path) -> AsyncIterator[tuple[EmbeddedBroker, KafkaProxy]]:
    """The embedded broker, with clients sent to a proxy after bootstrap."""
    proxy_port = free_port()
    broker = EmbeddedBroker(log_path=tmp_path / "broker.log", advertised_port=proxy_port)
    proxy = KafkaProxy(broker.host, proxy_port, broker.port)
    await proxy.start()
    broker.start()
    try:
        yield broker, proxy
    finally:
        await proxy.stop()
        broker.kill()  # nothing to keep; a graceful stop waits 5 s for clients to leave


async def test_a_member_whose_rejoin_is_never_answered_is_replaced_losing_nothing(
    proxied: tuple[EmbeddedBroker, KafkaProxy],
) -> None:
    broker, proxy = proxied
    topic, group = f"t-{uuid.uuid4().hex[:10]}", f"g-{uuid.uuid4().hex[:8]}"
    await ensure_topics(broker.bootstrap, [topic, topic + ".dlq"], partitions=1)
    first = [f"first-{i}".encode() for i in range(10)]
    later = [f"later-{i}".encode() for i in range(10)]
    seen: list[bytes] = []

    async def handler(delivery: Delivery) -> None:
        assert delivery.value is not None
        seen.append(delivery.value)

    async def saw(values: list[bytes]) -> bool:
        return set(values) <= set(seen)

    await produce(broker.bootstrap, topic, first)
    async with running(broker, topic, group, handler, poll_stall_s=STALL_S) as (loop, _):
        await eventually(lambda: saw(first))
        consumer = loop.consumer
        assert consumer is not None
        member = consumer._coordinator.member_id
        proxy.unanswered_members.add(member)
        consumer._coordinator.request_rejoin()  # the group asks the member to rejoin, as a rebalance does
        await produce(broker.bootstrap, topic, later)

        async def replaced() -> bool:
            return loop.recreated >= 1

        await eventually(replaced, timeout_s=STALL_S + 15)
        assert proxy.dropped >= 1  # the old member's JoinGroup never reached the broker
        await eventually(lambda: saw(later), timeout_s=30)
        assert loop.consumer is not None and loop.consumer._coordinator.member_id != member
    assert set(seen) == set(first + later)
    assert await committed(broker.bootstrap, group, topic) == [20]


def test_join_group_member_reads_the_member_id_aiokafka_sends() -> None:
    from aiokafka.protocol.group import JoinGroupRequest_v5

    body = JoinGroupRequest_v5("g", 6000, 6000, "member-7", "", "consumer", [("roundrobin", b"")])
    header = (11).to_bytes(2, "big") + (5).to_bytes(2, "big") + (42).to_bytes(4, "big")
    header += len(b"client").to_bytes(2, "big") + b"client"
    assert join_group_member(header + body.encode()) == "member-7"
    assert join_group_member((12).to_bytes(2, "big") + header[2:] + body.encode()) is None


def test_the_bounds_leave_room_for_a_normal_rebalance() -> None:
    # A JoinGroup may be held for the rebalance (session) timeout; the poll bound is well above it.
    assert request_timeout_ms(TEST_SESSION_TIMEOUT_MS) > TEST_SESSION_TIMEOUT_MS
    assert default_poll_stall_s(10_000) >= 3 * request_timeout_ms(10_000) / 1000
