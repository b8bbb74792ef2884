"""Topic creation (idempotent): the embedded broker and fresh clusters need the topics made."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError

from shared.logging import get_logger

log = get_logger(__name__)


async def ensure_topics(
    bootstrap: str,
    topics: Iterable[str],
    *,
    partitions: int = 6,
    replication_factor: int = 1,
    timeout_s: float = 30.0,
) -> None:
    """Create missing topics, retrying while the broker comes up."""
    wanted = list(topics)
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=5000)
        try:
            await admin.start()
            existing = set(await admin.list_topics())
            missing = [t for t in wanted if t not in existing]
            if missing:
                try:
                    await admin.create_topics(
                        [
                            NewTopic(t, num_partitions=partitions, replication_factor=replication_factor)
                            for t in missing
                        ]
                    )
                except TopicAlreadyExistsError:
                    pass  # another process created them first
                log.info("kafka_topics_created", topics=missing, partitions=partitions)
            return
        except (KafkaError, OSError) as exc:
            if asyncio.get_running_loop().time() > deadline:
                raise RuntimeError(
                    f"cannot create topics on Kafka at {bootstrap} ({exc!r}); "
                    "check LEADRELAY_KAFKA_BOOTSTRAP and that the broker is running"
                ) from exc
            await asyncio.sleep(0.5)
        finally:
            await admin.close()
