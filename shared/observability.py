"""Prometheus metrics of the shared runtime (consumer loop, outbox relay); one registry per process.
Service-specific metrics live with their service (`services/<name>/observability.py`).

Dead letters are `leadrelay_messages_total{result="dead_lettered"}`; consumer lag is measured from
outside the consumers (committed offsets vs log ends) by `consumer_lag_loop`."""

from __future__ import annotations

import asyncio

from prometheus_client import Counter, Gauge, Histogram

from shared.logging import get_logger

log = get_logger(__name__)

MESSAGES = Counter("leadrelay_messages_total", "Consumed messages by outcome", ["group", "topic", "result"])
HANDLER_SECONDS = Histogram("leadrelay_handler_seconds", "Time to handle one message", ["group"])
OUTBOX_PUBLISHED = Counter("leadrelay_outbox_published_total", "Outbox rows published", ["outbox"])
OUTBOX_PARKED = Counter(
    "leadrelay_outbox_parked_total", "Outbox rows parked after repeated non-transient failures", ["outbox"]
)
OUTBOX_LAG = Gauge(
    "leadrelay_outbox_lag_seconds", "Age of the oldest unpublished (not parked) outbox row", ["outbox"]
)

CONSUMER_LAG = Gauge(
    "leadrelay_consumer_lag_messages",
    "Messages not yet committed by a consumer group (log end offset - committed offset), per topic",
    ["group", "topic"],
)


async def measure_consumer_lag(
    bootstrap: str, groups: list[str], topics: list[str]
) -> dict[tuple[str, str], int]:
    """Lag of each group on each topic, as an outside observer sees it (committed offsets vs log ends),
    so it needs nothing from the consumers themselves and covers every instance of a group."""
    from aiokafka import AIOKafkaConsumer, TopicPartition

    # One probe per group: `committed` reads the group's offsets without joining it (no rebalance).
    # (The admin client's OffsetFetch is not understood by the embedded broker; this is.)
    from aiokafka.admin import AIOKafkaAdminClient

    # The partitions from the admin client: a plain consumer only knows the topics it was asked
    # about (on Apache Kafka `partitions_for_topic` is None for the others).
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=5000)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        described = await admin.describe_topics([t for t in topics if t in existing])
    finally:
        await admin.close()
    partitions = {d["topic"]: sorted(p["partition"] for p in d.get("partitions", [])) for d in described}
    lag: dict[tuple[str, str], int] = {}
    for group in groups:
        probe = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
        await probe.start()
        try:
            tps = [TopicPartition(topic, p) for topic in topics for p in partitions.get(topic, [])]
            ends = await probe.end_offsets(tps) if tps else {}
            for tp, end in ends.items():
                done = await probe.committed(tp)
                if done is None:
                    continue  # the group never committed here: it does not read this partition
                lag[(group, tp.topic)] = lag.get((group, tp.topic), 0) + max(0, end - done)
        finally:
            await probe.stop()
    return lag


async def consumer_lag_loop(
    bootstrap: str, groups: list[str], topics: list[str], stop: asyncio.Event, every_s: float = 10.0
) -> None:
    """Refresh CONSUMER_LAG until stopped; a broker that cannot answer leaves the last values."""
    while not stop.is_set():
        try:
            measured = await asyncio.wait_for(measure_consumer_lag(bootstrap, groups, topics), 10.0)
            for (group, topic), value in measured.items():
                CONSUMER_LAG.labels(group, topic).set(max(0, value))
        except Exception as exc:  # observing must never stop the service
            log.warning("consumer_lag_failed", error=type(exc).__name__)
        try:
            await asyncio.wait_for(stop.wait(), every_s)
        except TimeoutError:
            pass
