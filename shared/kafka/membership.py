"""Group membership as the consumer loop needs it: a rejoin ends a term, a lost member commits nothing."""

from __future__ import annotations

from typing import Protocol

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.protocol.commit import OffsetCommitRequest

from shared.logging import get_logger

log = get_logger(__name__)


class Terms(Protocol):
    assignments: int

    async def end_membership_term(self, revoked: set[TopicPartition]) -> None: ...


def member_of_group(consumer: AIOKafkaConsumer) -> bool:
    """Whether the consumer still holds its group membership (a member id and a generation).

    aiokafka has no public accessor, nor an `on_partitions_lost` callback as the Java client has,
    so this reads its coordinator. After the coordinator forgot the member (a session that
    expired, a broker that lost its state), aiokafka resets the generation to -1 and a commit then
    goes out as a group-less "simple" commit, which the broker accepts: never send one then."""
    coordinator = getattr(consumer, "_coordinator", None)
    if coordinator is None:
        return False
    return bool(coordinator.member_id) and coordinator.generation != OffsetCommitRequest.DEFAULT_GENERATION_ID


class EndTermOnRevoke(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, loop: Terms) -> None:
        self._loop = loop

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        await self._loop.end_membership_term(revoked)

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        self._loop.assignments += 1
        log.info(
            "kafka_partitions_assigned", partitions=sorted(f"{tp.topic}[{tp.partition}]" for tp in assigned)
        )
