"""EventProducer on each broker: the CloudEvents content-type header, idempotence where granted."""

from __future__ import annotations

import uuid

import pytest

from shared.kafka import EventProducer, ensure_topics
from shared.kafka.brokers import Broker
from shared.kafka.producer import CLOUDEVENTS_CONTENT_TYPE, OutgoingMessage
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
