"""A sales tool's view of the handoffs topic: another Kafka client (librdkafka) and the CloudEvents SDK.

Nothing of LeadRelay's reads the records here: confluent-kafka consumes them and the official
CloudEvents SDK (Kafka binding, auto-detecting binary vs structured mode) parses them, as a
CRM connector would. On Apache Kafka the consumer joins a group (`subscribe()`), the way such
tools run; librdkafka cannot use the embedded broker's group protocol, so there it reads with
`assign()`.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import httpx
import pytest
from cloudevents.core.bindings.kafka import KafkaMessage, from_kafka_event
from confluent_kafka import Consumer, Message, TopicPartition

from services.devstack import start_service, stop_all, wait_ready
from shared.events import Topics
from shared.kafka.brokers import Broker
from tests.helpers.stack import API_KEY, e2e_env

pytestmark = [pytest.mark.e2e, pytest.mark.kafka]
PARTITIONS = 3  # what service_env (services/devstack) configures
LEADS = [  # one qualifies and is assigned, one is disqualified (free e-mail domain), one is nurtured
    {"lead_id": "ce-fit", "email": "ada@analytical.example", "employees": 500, "country": "US"},
    {"lead_id": "ce-free", "email": "someone@gmail.com", "employees": 500, "country": "US"},
    {"lead_id": "ce-small", "email": "bo@tiny.example", "employees": 3, "country": "US"},
]


def _consume(broker: Broker, topic: str, expect: int, timeout_s: float = 60.0) -> list[Message]:
    consumer = Consumer(
        {
            "bootstrap.servers": broker.bootstrap,
            "group.id": f"sales-tool-{uuid.uuid4().hex[:8]}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    if broker.kind == "kafka":
        consumer.subscribe([topic])
    else:
        consumer.assign([TopicPartition(topic, p, 0) for p in range(PARTITIONS)])
    messages: list[Message] = []
    deadline = time.monotonic() + timeout_s
    try:
        # At least `expect`, then whatever else follows within a second (other event types may come).
        while time.monotonic() < deadline:
            message = consumer.poll(0.5 if len(messages) < expect else 1.0)
            if message is None:
                if len(messages) >= expect:
                    break
                continue
            assert message.error() is None, message.error()
            messages.append(message)
        if broker.kind == "kafka":
            assert consumer.assignment(), "the group never assigned this consumer a partition"
            consumer.commit(asynchronous=False)  # a group member that commits, as a connector would
    finally:
        consumer.close()
    return messages


def test_a_sales_tool_reads_every_handoff_as_a_structured_cloudevent(
    broker: Broker, topic_prefix: str, tmp_path: Path
) -> None:
    env = e2e_env(broker.bootstrap, f"sqlite+aiosqlite:///{tmp_path / 'all.db'}", topic_prefix)
    services = [start_service(name, env, tmp_path) for name in ("router", "ingest")]
    try:
        wait_ready(services)
        for lead in LEADS:
            response = httpx.post(
                f"{services[1].url}/v1/leads", json=lead, headers={"X-API-Key": API_KEY}, timeout=10
            )
            assert response.status_code == 202, response.text
        # A decision per lead, plus the assignment of the one that qualified.
        messages = _consume(broker, Topics(topic_prefix).handoffs, expect=len(LEADS) + 1)
        lead_events = _consume(broker, Topics(topic_prefix).lead_events, expect=len(LEADS))
    finally:
        stop_all(services)

    assert len(messages) >= len(LEADS) + 1 and len(lead_events) == len(LEADS)
    by_lead: dict[str, list[str]] = {}
    for message in [*messages, *lead_events]:
        headers = {k: v for k, v in message.headers() or []}
        assert headers.get("content-type") == b"application/cloudevents+json", headers
        event = from_kafka_event(KafkaMessage(headers=headers, key=message.key(), value=message.value()))
        assert event.get_specversion() == "1.0"
        assert event.get_subject() == message.key().decode()  # keyed by lead id
        assert event.get_time() is not None and event.get_id()
        assert isinstance(event.get_data(), dict)
        assert event.get_extension("schemaversion") is not None
        if message.topic().endswith("handoffs"):
            by_lead.setdefault(event.get_subject() or "", []).append(event.get_type())
    assert sorted(by_lead) == ["ce-fit", "ce-free", "ce-small"]
    assert by_lead["ce-fit"][:2] == ["lead.qualified", "lead.assigned"]  # then SLA events, if any
    assert by_lead["ce-free"][0] == "lead.disqualified"
    assert by_lead["ce-small"][0] == "lead.nurtured"
