"""Notice when the broker lost what it acknowledged, and put it back.

The embedded broker keeps topics in memory: when it dies and comes back, every record it
acknowledged is gone, and the topics may come back auto-created with the wrong partition count.
Each producing service keeps a marker record in a control topic of its own
(`<prefix>control.<service>`). A broker without the marker has lost its log (or never had it):
the service recreates the topics as LeadRelay defines them, republishes what it keeps for that
purpose (ingest: its journal of published events; the router: its outbox) for the retention
window, then writes the marker again. Event ids are stable and every consumer deduplicates on
them, so a republish never counts twice.

Offsets are not compared on purpose: the embedded broker numbers batches, not records, so an
acknowledged offset says nothing reliable about its log end. On Apache Kafka the marker stays,
so this fires once, on a cluster's first start, with nothing or only duplicates to send.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewPartitions
from aiokafka.errors import IncompatibleBrokerVersion, UnsupportedVersionError
from prometheus_client import Counter

from shared.kafka.admin import ensure_topics
from shared.kafka.producer import EventProducer, OutgoingMessage
from shared.logging import get_logger

log = get_logger(__name__)
RESETS = Counter("leadrelay_broker_resets_total", "Broker resets repaired (the marker was gone)", ["service"])
REPUBLISHED = Counter("leadrelay_republished_total", "Events republished after a broker reset", ["service"])

Republish = Callable[[], Awaitable[int]]


async def marker_present(bootstrap: str, topic: str) -> bool:
    """Whether the control topic holds a record, on any of its partitions.

    Any partition, not only the first: a producer's metadata request can make the embedded broker
    auto-create the control topic (with 4 partitions) before the watcher creates it with one, and
    the marker's key then lands on another partition. Looking at the first alone found no marker
    ever after, and the service republished its whole window every two seconds."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=3000)
    await admin.start()
    try:
        if topic not in set(await admin.list_topics()):  # a listing, never an auto-creating lookup
            return False
        described = await admin.describe_topics([topic])
    finally:
        await admin.close()
    partitions = [TopicPartition(topic, p["partition"]) for d in described for p in d.get("partitions", [])]
    if not partitions:
        return False
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, request_timeout_ms=3000)
    await consumer.start()
    try:
        ends = await consumer.end_offsets(partitions)
    finally:
        await consumer.stop()
    return any(end > 0 for end in ends.values())


async def repair_topics(bootstrap: str, topics: Sequence[str], partitions: int) -> None:
    """Create missing topics, and grow any that came back auto-created with fewer partitions."""
    await ensure_topics(bootstrap, topics, partitions=partitions)
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=5000)
    await admin.start()
    try:
        described = await admin.describe_topics(list(topics))
        short = {
            d["topic"]: NewPartitions(total_count=partitions)
            for d in described
            if len(d.get("partitions", [])) < partitions
        }
        if short:
            try:
                await admin.create_partitions(short)
            except (IncompatibleBrokerVersion, UnsupportedVersionError):
                # The embedded broker has no CreatePartitions; its auto-created topics have 4. Fewer
                # partitions only mean less parallelism (consumers and producers use what there is),
                # whereas failing here would block the republish after every such reset, for good.
                log.warning("kafka_topics_short", topics=sorted(short), partitions=partitions)
                return
            log.warning("kafka_topics_regrown", topics=sorted(short), partitions=partitions)
    finally:
        await admin.close()


class BrokerResetWatcher:
    def __init__(
        self,
        service: str,
        bootstrap: str,
        producer: EventProducer,
        topics: Sequence[str],
        partitions: int,
        republish: Republish,
        *,
        control_prefix: str,
        is_transient: Callable[[BaseException], bool],
        interval_s: float = 2.0,
    ) -> None:
        self._service = service
        self._bootstrap = bootstrap
        self._producer = producer
        self._topics = list(topics)
        self._partitions = partitions
        self._republish = republish
        self._is_transient = is_transient
        self._interval_s = interval_s
        self.control_topic = f"{control_prefix}control.{service}"
        self.repairs = 0

    async def check(self) -> bool:
        """One look; True when the marker was gone and the broker was refilled."""
        if await marker_present(self._bootstrap, self.control_topic):
            return False
        await repair_topics(self._bootstrap, self._topics, self._partitions)
        await ensure_topics(self._bootstrap, [self.control_topic], partitions=1)
        count = await self._republish()
        # Last: a failure above leaves the marker absent, so the next look repairs again.
        marker = OutgoingMessage(self.control_topic, self._service.encode(), b"{}", content_type=None)
        await self._producer.publish(marker)
        RESETS.labels(self._service).inc()
        REPUBLISHED.labels(self._service).inc(count)
        self.repairs += 1
        # The first marker of a fresh broker is routine; a republish means the broker had forgotten.
        level = log.warning if count else log.info
        level(
            "broker_reset_repaired",
            service=self._service,
            republished=count,
            control_topic=self.control_topic,
        )
        return True

    async def first_check(self) -> None:
        """At start, before serving: what the broker lost is put back before anything new is sent
        (later, a republish would also resend what was just published, as duplicates)."""
        try:
            await self.check()
        except Exception as exc:
            if not self._is_transient(exc):
                raise
            log.warning("broker_reset_check_deferred", service=self._service, error=repr(exc))

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.check()
            except Exception as exc:
                if not self._is_transient(exc):
                    raise  # a bug: let the process die and be restarted, loudly
                log.info("broker_reset_check_retry", service=self._service, error=repr(exc))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self._interval_s)
