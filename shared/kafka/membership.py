"""Group membership as the consumer loop needs it: a rejoin ends a term, a lost member commits nothing,
and an offset is committed only to the broker its record was read from.

The last rule is for a broker that forgets (the embedded one, memory storage): killed and started
again, it has new, empty logs, and it stores an offset commit from a member it has never seen
(measured on Tansu: the old member id and generation, accepted). aiokafka's own `commit` retries
over a new connection until the broker answers, so a commit of an offset read before the restart
lands in the new log. Here a commit goes out once, and only over the coordinator connection the
term began on: a restarted broker is a new connection.

aiokafka has no public accessor for any of this (nor the Java client's `on_partitions_lost`), so
these functions read its coordinator and client; `tests/kafka/test_consumer_after_reset.py` pins
what they rely on.
"""

from __future__ import annotations

from typing import Protocol

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.client import ConnectionGroup
from aiokafka.protocol.commit import OffsetCommitRequest
from aiokafka.structs import OffsetAndMetadata

from shared.logging import get_logger

log = get_logger(__name__)


class Terms(Protocol):
    assignments: int

    @property
    def consumer(self) -> AIOKafkaConsumer | None: ...

    async def end_membership_term(self, revoked: set[TopicPartition]) -> None: ...

    def begin_membership_term(self) -> None: ...


def member_of_group(consumer: AIOKafkaConsumer) -> bool:
    """Whether the consumer still holds its group membership (a member id and a generation).

    After the coordinator forgot the member (a session that expired, a broker that lost its
    state), aiokafka resets the generation to -1, and a commit then goes out as a group-less
    "simple" commit, which brokers accept: never send one then."""
    coordinator = getattr(consumer, "_coordinator", None)
    if coordinator is None:
        return False
    return bool(coordinator.member_id) and coordinator.generation != OffsetCommitRequest.DEFAULT_GENERATION_ID


class EndTermOnRevoke(ConsumerRebalanceListener):  # type: ignore[misc]
    """The loop's terms follow `consumer`'s rebalances, and only while it is the loop's consumer: one
    replaced after a stall (shared/kafka/stall.py) may still be shutting down."""

    def __init__(self, loop: Terms, consumer: AIOKafkaConsumer) -> None:
        self._loop = loop
        self._consumer = consumer

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        if self._loop.consumer is self._consumer:
            await self._loop.end_membership_term(revoked)

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        if self._loop.consumer is not self._consumer:
            return
        self._loop.assignments += 1
        self._loop.begin_membership_term()
        log.info(
            "kafka_partitions_assigned", partitions=sorted(f"{tp.topic}[{tp.partition}]" for tp in assigned)
        )


def coordinator_connection(consumer: AIOKafkaConsumer) -> object | None:
    """The live connection to the group coordinator (an identity to compare), or None."""
    coordinator = getattr(consumer, "_coordinator", None)
    if coordinator is None or coordinator.coordinator_id is None:
        return None
    conn = consumer._client._conns.get((coordinator.coordinator_id, ConnectionGroup.COORDINATION))
    return conn if conn is not None and conn.connected() else None


async def commit_once(
    consumer: AIOKafkaConsumer, offsets: dict[TopicPartition, int], session: object | None
) -> bool:
    """Commit `offsets` in one request over `session`, the coordinator connection the records'
    term began on. False, and nothing sent, when that connection is gone (the broker may be a new
    one) or the member is no longer in the group; a refusal raises aiokafka's KafkaError."""
    if session is None or coordinator_connection(consumer) is not session or not member_of_group(consumer):
        return False
    subscription = consumer._subscription.subscription
    assignment = subscription.assignment if subscription is not None else None
    if assignment is None:
        return False
    owned = {tp: OffsetAndMetadata(offset, "") for tp, offset in offsets.items() if tp in assignment.tps}
    if owned:
        coordinator = consumer._coordinator
        async with coordinator._commit_lock:
            await coordinator._do_commit_offsets(assignment, owned)
    return True
