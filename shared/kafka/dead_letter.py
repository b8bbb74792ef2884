"""Dead-lettering a record the consumer loop gives up on: the original bytes and headers, plus why.

The record goes to the DLQ topic with `leadrelay-dlq-*` headers (reason, topic, partition, offset,
group, attempts). Until the broker takes it, the loop does not move past the record: an offset is
committed only once its record is processed or dead-lettered.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from shared.backoff import Backoff
from shared.kafka.producer import BrokerUnavailable, EventProducer, OutgoingMessage
from shared.kafka.records import Delivery
from shared.logging import get_logger
from shared.observability import MESSAGES

log = get_logger(__name__)


async def dead_letter(
    producer: EventProducer,
    dlq_topic: str,
    group_id: str,
    delivery: Delivery,
    exc: BaseException,
    attempts: int,
    stop: asyncio.Event,
    backoff: Callable[[], Backoff],
) -> None:
    """Publish the record to `dlq_topic` until the broker takes it (BrokerUnavailable once stopping)."""
    reason = f"{type(exc).__name__}: {exc}"[:2000]
    headers = [
        *[(k, v) for k, v in delivery.headers if not k.startswith("leadrelay-dlq-")],
        ("leadrelay-dlq-reason", reason.encode()),
        ("leadrelay-dlq-topic", delivery.topic.encode()),
        ("leadrelay-dlq-partition", str(delivery.partition).encode()),
        ("leadrelay-dlq-offset", str(delivery.offset).encode()),
        ("leadrelay-dlq-group", group_id.encode()),
        ("leadrelay-dlq-attempts", str(attempts).encode()),
    ]
    # The original bytes may not be a CloudEvent: keep the record's own headers, claim no content type.
    message = OutgoingMessage(dlq_topic, delivery.key, delivery.value or b"", headers, content_type=None)
    wait = backoff()
    while True:
        try:
            await producer.publish(message)
            MESSAGES.labels(group_id, delivery.topic, "dead_lettered").inc()
            log.error(
                "message_dead_lettered",
                topic=delivery.topic,
                partition=delivery.partition,
                offset=delivery.offset,
                reason=reason[:300],
                attempts=attempts,
            )
            return
        except BrokerUnavailable as dlq_exc:
            # Not dead-lettered yet: never commit past it. Keep trying until the broker is back.
            log.warning("dead_letter_publish_failed", error=repr(dlq_exc), retry_in_s=wait.delay_s)
            if stop.is_set():
                raise
            await wait.wait()
