"""Kafka adapters: producer with durable acks, at-least-once consumer loop, topic admin, embedded broker."""

from shared.kafka.admin import ensure_topics
from shared.kafka.consumer import ConsumerLoop
from shared.kafka.producer import BrokerUnavailable, EventProducer
from shared.kafka.records import Delivery, PermanentError

__all__ = [
    "BrokerUnavailable",
    "ConsumerLoop",
    "Delivery",
    "EventProducer",
    "PermanentError",
    "ensure_topics",
]
