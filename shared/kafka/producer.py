"""A producer that returns only once the broker has acknowledged the write (acks=all).

Idempotence (`idempotence="auto"`, the default): the producer asks for a producer id
(InitProducerId) and, where the broker grants one (Apache Kafka), its retries can no longer
write a batch twice. The embedded broker (Tansu) answers InitProducerId with an error; the
producer then runs without idempotence, as before, and logs `kafka_idempotence_unavailable`
once. Either way delivery is at-least-once end to end (a crash between the ack and the caller's
bookkeeping republishes), so every event carries a stable id and consumers deduplicate.

Every record carries `content-type: application/cloudevents+json` unless the message says
otherwise: the CloudEvents Kafka binding, structured mode, which sales tools read to know
what the value is.
"""

from __future__ import annotations

import asyncio
import logging
import random
import struct
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaConnectionError, KafkaError

from shared.logging import get_logger

log = get_logger(__name__)

CLOUDEVENTS_CONTENT_TYPE = "application/cloudevents+json"
_CLOUDEVENTS_HEADER = ("content-type", CLOUDEVENTS_CONTENT_TYPE.encode())
# How often waits for acknowledgements are checked against their deadlines (the precision of the
# send timeout on `publish`).
SWEEP_EVERY_S = 0.1
Idempotence = Literal["auto", "on", "off"]


class _QuietInitProducerIdRefusal(logging.Filter):
    """aiokafka logs a broker's InitProducerId refusal at ERROR before raising it; the caller below
    turns the raise into `kafka_idempotence_unavailable` (auto) or BrokerUnavailable (on), so the
    ERROR line would only alarm whoever reads the embedded broker's logs."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("Unexpected error during InitProducerIdRequest")


logging.getLogger("aiokafka.producer.sender").addFilter(_QuietInitProducerIdRefusal())


class BrokerUnavailable(RuntimeError):
    """The broker did not acknowledge the write in time; the caller must not report success."""


@dataclass(frozen=True)
class OutgoingMessage:
    topic: str
    key: bytes | None
    value: bytes
    headers: Sequence[tuple[str, bytes]] = ()
    # Added as the `content-type` header unless `headers` has one; None adds none (a dead
    # letter keeps the original record's headers, and its bytes may not be a CloudEvent).
    content_type: str | None = CLOUDEVENTS_CONTENT_TYPE

    def record_headers(self) -> list[tuple[str, bytes]]:
        if not self.headers and self.content_type == CLOUDEVENTS_CONTENT_TYPE:
            return [_CLOUDEVENTS_HEADER]  # the request path's case: no scan, no encode
        headers = list(self.headers)
        if self.content_type and not any(k.lower() == "content-type" for k, _ in headers):
            headers.append(("content-type", self.content_type.encode()))
        return headers


class EventProducer:
    def __init__(
        self,
        bootstrap: str,
        *,
        client_id: str,
        request_timeout_ms: int = 5000,
        send_timeout_s: float = 5.0,
        linger_ms: int = 0,
        idempotence: Idempotence = "auto",
    ) -> None:
        self._bootstrap = bootstrap
        self._client_id = client_id
        self._request_timeout_ms = request_timeout_ms
        self._send_timeout_s = send_timeout_s
        self._linger_ms = linger_ms
        self._idempotence = idempotence
        self._producer: AIOKafkaProducer | None = None
        self._start_lock = asyncio.Lock()
        # `publish`'s acknowledgements awaited, oldest first, with their deadlines: one sweep timer
        # for all of them instead of an `asyncio.timeout` (a timer set and cancelled) per request.
        self._waiting: deque[tuple[float, asyncio.Future[Any]]] = deque()
        self._sweep: asyncio.TimerHandle | None = None

    async def start(self) -> None:
        """Connect; raises BrokerUnavailable if the broker cannot be reached now."""
        async with self._start_lock:
            if self._producer is not None:
                return
            if self._idempotence != "off":
                try:
                    self._producer = await self._connect(idempotent=True)
                    return
                except _IdempotenceRefused as exc:
                    if self._idempotence == "on":
                        raise BrokerUnavailable(
                            f"Kafka at {self._bootstrap} refused an idempotent producer ({exc.__cause__!r})"
                        ) from exc
                    log.info(
                        "kafka_idempotence_unavailable", bootstrap=self._bootstrap, error=repr(exc.__cause__)
                    )
                    self._idempotence = "off"  # decided for this broker: do not ask again on reconnect
            self._producer = await self._connect(idempotent=False)

    @property
    def idempotent(self) -> bool | None:
        """Whether the connected producer is idempotent; None before the first connection."""
        return None if self._producer is None else self._idempotence != "off"

    async def _connect(self, *, idempotent: bool) -> AIOKafkaProducer:
        producer = _KeyedProducer(
            bootstrap_servers=self._bootstrap,
            client_id=self._client_id,
            acks="all",
            enable_idempotence=idempotent,
            # aiokafka bounds `send`'s own waits (metadata, buffer space) by this: never longer
            # than a publish may take in all.
            request_timeout_ms=min(self._request_timeout_ms, max(1, int(self._send_timeout_s * 1000))),
            linger_ms=self._linger_ms,
            retry_backoff_ms=100,
            partitioner=partition_by_key,
        )
        try:
            await asyncio.wait_for(producer.start(), self._send_timeout_s)
        except (KafkaConnectionError, OSError, TimeoutError) as exc:
            await _quiet_stop(producer)
            raise BrokerUnavailable(f"cannot connect to Kafka at {self._bootstrap}: {exc!r}") from exc
        except KafkaError as exc:
            await _quiet_stop(producer)
            if idempotent:
                # Reached the broker, which answered the producer-id request with an error.
                raise _IdempotenceRefused() from exc
            raise BrokerUnavailable(f"cannot connect to Kafka at {self._bootstrap}: {exc!r}") from exc
        return producer

    async def stop(self) -> None:
        if self._producer is not None:
            producer, self._producer = self._producer, None
            await _quiet_stop(producer)
        if self._sweep is not None:
            self._sweep.cancel()
            self._sweep = None
        for _, acked in self._waiting:  # the stop settled them, or they are failed now
            if not acked.done():
                acked.set_exception(TimeoutError("the producer stopped"))
        self._waiting.clear()

    async def publish(self, message: OutgoingMessage) -> None:
        """Send one message and wait for the broker's acknowledgement, within `send_timeout_s`.

        The request path's call (one message per request): no list, no gather future, and no timer
        of its own. `send` itself waits only for metadata or buffer space, which aiokafka bounds by
        `request_timeout_ms` (never above the send timeout, see `_connect`); the acknowledgement is
        watched by the sweep, which fails it with TimeoutError once its deadline has passed."""
        if self._producer is None:
            await self.start()
        assert self._producer is not None
        producer = self._producer
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._send_timeout_s
        try:
            acked = await producer.send(
                message.topic, value=message.value, key=message.key, headers=message.record_headers()
            )
            self._watch(acked, deadline, loop)
            await acked
        except (KafkaError, OSError, TimeoutError) as exc:
            log.warning("kafka_publish_failed", error=repr(exc), messages=1)
            raise BrokerUnavailable(f"Kafka did not acknowledge the write: {exc!r}") from exc

    def _watch(self, acked: asyncio.Future[Any], deadline: float, loop: asyncio.AbstractEventLoop) -> None:
        if acked.done():
            return
        if deadline <= loop.time():  # `send` itself took the whole time (a metadata wait)
            acked.set_exception(TimeoutError("no acknowledgement within the send timeout"))
            return
        self._waiting.append((deadline, acked))
        if self._sweep is None:
            self._sweep = loop.call_later(SWEEP_EVERY_S, self._sweep_expired, loop)

    def _sweep_expired(self, loop: asyncio.AbstractEventLoop) -> None:
        """Drop the settled waits at the head, fail the expired ones (aiokafka skips a future that
        is already done when its batch settles later). Deadlines arrive in order, except after a
        `send` that waited for metadata: such a wait is failed once those ahead of it have settled
        (they are acknowledged within milliseconds, or expire themselves)."""
        now, waiting = loop.time(), self._waiting
        while waiting and (waiting[0][1].done() or waiting[0][0] <= now):
            _, acked = waiting.popleft()
            if not acked.done():
                acked.set_exception(TimeoutError("no acknowledgement within the send timeout"))
        self._sweep = loop.call_later(SWEEP_EVERY_S, self._sweep_expired, loop) if waiting else None

    async def publish_many(self, messages: Sequence[OutgoingMessage]) -> None:
        """Send messages in order and wait until every one is acknowledged (or raise)."""
        if self._producer is None:
            await self.start()
        assert self._producer is not None
        producer = self._producer

        async def send_all() -> None:
            futures = [
                await producer.send(m.topic, value=m.value, key=m.key, headers=m.record_headers())
                for m in messages
            ]
            await asyncio.gather(*futures)

        try:
            # One timer for the whole batch (off the request path, so its cost does not matter), and
            # it bounds the sends as a whole too: several may each wait for metadata or buffer space.
            async with asyncio.timeout(self._send_timeout_s):
                await send_all()
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


_M, _MASK = 0x5BD1E995, 0xFFFFFFFF


def murmur2(data: bytes) -> int:
    """Kafka's murmur2 (the Java client's Utils.murmur2), as aiokafka computes it, in half the time:
    the 4-byte words unpacked at once. Same value for every input (tests/kafka/test_partitioner.py),
    so a key lands on the partition every Kafka client picks for it."""
    length = len(data)
    h = (0x9747B28C ^ length) & _MASK
    words = length >> 2
    if words:
        for k in struct.unpack_from(f"<{words}I", data):
            k = (k * _M) & _MASK
            k ^= k >> 24
            h = ((h * _M) & _MASK) ^ ((k * _M) & _MASK)
    extra = length & 3
    if extra:
        tail = length - extra
        if extra == 3:
            h ^= data[tail + 2] << 16
        if extra >= 2:
            h ^= data[tail + 1] << 8
        h = ((h ^ data[tail]) * _M) & _MASK
    h ^= h >> 13
    h = (h * _M) & _MASK
    return h ^ (h >> 15)


def partition_by_key(key: bytes | None, all_partitions: list[int], available: list[int]) -> int:
    """aiokafka's DefaultPartitioner with the faster murmur2 (a keyless record: any available)."""
    if key is None:
        return random.choice(available or all_partitions)  # noqa: S311 (spreading load, not secrecy)
    return all_partitions[(murmur2(key) & 0x7FFFFFFF) % len(all_partitions)]


class _KeyedProducer(AIOKafkaProducer):  # type: ignore[misc]
    """aiokafka's producer, with a keyed record's partition picked from a list kept per topic.

    aiokafka's `_partition` builds the topic's partition set twice per record (all, and those with
    a leader) before calling the partitioner, which for a key reads only the first. Here the sorted
    partition numbers are kept until the metadata changes (aiokafka replaces the topic's dict on
    every refresh, so the cache is keyed by that dict itself); a key's partition is still the
    configured partitioner's (`partition_by_key`; tests/kafka/test_partitioner.py, on a real broker)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._partition_lists: dict[str, tuple[dict[int, Any], list[int]]] = {}

    def _partition(
        self,
        topic: str,
        partition: int | None,
        key: Any,
        value: Any,
        serialized_key: bytes | None,
        serialized_value: bytes | None,
    ) -> int:
        known: dict[int, Any] | None = self._metadata._partitions.get(topic)
        if partition is not None or serialized_key is None or not known:
            chosen: int = super()._partition(topic, partition, key, value, serialized_key, serialized_value)
            return chosen
        cached = self._partition_lists.get(topic)
        if cached is None or cached[0] is not known:
            cached = self._partition_lists[topic] = (known, sorted(known))
        chosen = self._partitioner(serialized_key, cached[1], cached[1])
        return chosen


class _IdempotenceRefused(Exception):
    """The broker answered, but would not give this producer an id (no InitProducerId)."""


async def _quiet_stop(producer: AIOKafkaProducer) -> None:
    try:
        await asyncio.wait_for(producer.stop(), 5.0)
    except (KafkaError, OSError, TimeoutError) as exc:
        log.warning("kafka_producer_stop_failed", error=repr(exc))
