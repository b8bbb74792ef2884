"""A reader of a whole topic from its first record, outside any consumer group: what `tail`, the
demo's sales tools and the tests use to see a topic as a newcomer would (no offsets committed,
no rebalance with the services' own groups)."""

from __future__ import annotations

from aiokafka import AIOKafkaConsumer


def topic_reader(bootstrap: str, topic: str) -> AIOKafkaConsumer:
    """Not started: `await reader.start()`, read with `getmany`, then `await reader.stop()`."""
    return AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
