"""A producer that returns only once the broker has acknowledged the write (acks=all).

No idempotent producer or transactions: the embedded broker refuses InitProducerId,
and real Kafka must run the same code. Delivery is at-least-once; every event carries
a stable id so consumers deduplicate.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from shared.logging import get_logger

log = get_logger(__name__)


class BrokerUnavailable(RuntimeError):
    """The broker did not acknowledge the write in time; the caller must not report success."""


@dataclass(frozen=True)
class OutgoingMessage:
    topic: str
    key: bytes | None
    value: bytes
    headers: Sequence[tuple[str, bytes]] = ()


class EventProducer:
    def __init__(
        self,
        bootstrap: str,
        *,
        client_id: str,
        request_timeout_ms: int = 5000,
        send_timeout_s: float = 5.0,
        linger_ms: int = 0,
    ) -> None:
        self._bootstrap = bootstrap
        self._client_id = client_id
        self._request_timeout_ms = request_timeout_ms
        self._send_timeout_s = send_timeout_s
        self._linger_ms = linger_ms
        self._producer: AIOKafkaProducer | None = None
        self._start_lock = asyncio.Lock()

    async def start(self) -> None:
        """Connect; raises BrokerUnavailable if the broker cannot be reached now."""
        async with self._start_lock:
            if self._producer is not None:
                return
            producer = AIOKafkaProducer(
                bootstrap_servers=self._bootstrap,
                client_id=self._client_id,
                acks="all",
                enable_idempotence=False,
                request_timeout_ms=self._request_timeout_ms,
                linger_ms=self._linger_ms,
                retry_backoff_ms=100,
            )
            try:
                await asyncio.wait_for(producer.start(), self._send_timeout_s)
            except (KafkaError, OSError, TimeoutError) as exc:
                await _quiet_stop(producer)
                raise BrokerUnavailable(f"cannot connect to Kafka at {self._bootstrap}: {exc!r}") from exc
            self._producer = producer

    async def stop(self) -> None:
        if self._producer is not None:
            producer, self._producer = self._producer, None
            await _quiet_stop(producer)

    async def publish(self, message: OutgoingMessage) -> None:
        """Send one message and wait for the broker's acknowledgement."""
        await self.publish_many([message])

    async def publish_many(self, messages: Sequence[OutgoingMessage]) -> None:
        """Send messages in order and wait until every one is acknowledged (or raise)."""
        if self._producer is None:
            await self.start()
        assert self._producer is not None
        producer = self._producer

        async def send_all() -> None:
            futures = [
                await producer.send(m.topic, value=m.value, key=m.key, headers=list(m.headers))
                for m in messages
            ]
            await asyncio.gather(*futures)

        try:
            await asyncio.wait_for(send_all(), self._send_timeout_s)
        except (KafkaError, OSError, TimeoutError) as exc:
            log.warning("kafka_publish_failed", error=repr(exc), messages=len(messages))
            raise BrokerUnavailable(f"Kafka did not acknowledge the write: {exc!r}") from exc

    async def healthy(self) -> bool:
        """True when the producer is connected and the cluster answers a metadata request."""
        if self._producer is None:
            try:
                await self.start()
            except BrokerUnavailable:
                return False
        assert self._producer is not None
        client = self._producer.client
        try:
            return bool(await asyncio.wait_for(client.fetch_all_metadata(), 2.0))
        except (KafkaError, OSError, TimeoutError):
            return False


async def _quiet_stop(producer: AIOKafkaProducer) -> None:
    try:
        await asyncio.wait_for(producer.stop(), 5.0)
    except (KafkaError, OSError, TimeoutError) as exc:
        log.warning("kafka_producer_stop_failed", error=repr(exc))
