"""EventProducer on each broker: the content-type header, idempotence where granted; a hung broker."""

from __future__ import annotations

import asyncio
import os
import signal
import uuid
from pathlib import Path

import pytest

from shared.kafka import BrokerUnavailable, EventProducer, ensure_topics
from shared.kafka.brokers import Broker
from shared.kafka.embedded import EmbeddedBroker
from shared.kafka.producer import CLOUDEVENTS_CONTENT_TYPE, SWEEP_EVERY_S, OutgoingMessage
from tests.helpers.kafka_tools import read_topic

pytestmark = [pytest.mark.kafka]


async def test_records_carry_the_cloudevents_content_type(broker: Broker) -> None:
    topic = f"t-{uuid.uuid4().hex[:10]}"
    await ensure_topics(broker.bootstrap, [topic], partitions=1)
    producer = EventProducer(broker.bootstrap, client_id="test-producer")
    try:
        await producer.publish_many(
            [
                OutgoingMessage(topic, b"lead-1", b'{"specversion":"1.0"}'),
                OutgoingMessage(topic, b"lead-1", b"x", [("content-type", b"text/plain")]),
                OutgoingMessage(topic, None, b"\x00raw", [("dlq-reason", b"bad")], content_type=None),
            ]
        )
    finally:
        await producer.stop()
    records = await read_topic(broker.bootstrap, topic, expect=3)
    assert [r.headers for r in records] == [
        (("content-type", CLOUDEVENTS_CONTENT_TYPE.encode()),),
        (("content-type", b"text/plain"),),  # a message's own content type wins
        (("dlq-reason", b"bad"),),  # dead letters claim none: their bytes may be anything
    ]


async def test_idempotence_is_used_where_the_broker_grants_it(broker: Broker) -> None:
    topic = f"t-{uuid.uuid4().hex[:10]}"
    await ensure_topics(broker.bootstrap, [topic], partitions=1)
    producer = EventProducer(broker.bootstrap, client_id="test-idempotence")
    try:
        await producer.publish(OutgoingMessage(topic, b"k", b"v"))
        # Apache Kafka answers InitProducerId; Tansu does not, and the producer falls back.
        assert producer.idempotent is (broker.kind == "kafka")
    finally:
        await producer.stop()
    assert [r.value for r in await read_topic(broker.bootstrap, topic, expect=1)] == [b"v"]


async def test_a_publish_to_a_hung_broker_fails_within_the_send_timeout(tmp_path: Path) -> None:
    """The broker stops answering (SIGSTOP: connections stay open, nothing comes back), so no
    acknowledgement ever arrives: `publish` must give up by its deadline, not hang."""
    own = EmbeddedBroker(log_path=tmp_path / "broker.log")
    own.start()
    assert own.pid is not None
    producer = EventProducer(
        own.bootstrap, client_id="test-hung", send_timeout_s=1.0, request_timeout_ms=30_000
    )
    try:
        await ensure_topics(own.bootstrap, ["hung"], partitions=1)
        await producer.publish(OutgoingMessage("hung", b"k", b"before"))
        os.kill(own.pid, signal.SIGSTOP)
        loop = asyncio.get_running_loop()
        started = loop.time()
        with pytest.raises(BrokerUnavailable):
            await producer.publish(OutgoingMessage("hung", b"k", b"during"))
        elapsed = loop.time() - started
        assert 0.9 <= elapsed <= 1.0 + 2 * SWEEP_EVERY_S + 0.5, elapsed
    finally:
        os.kill(own.pid, signal.SIGCONT)
        await producer.stop()
        own.stop()
