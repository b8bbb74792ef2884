"""`EventProducer`'s contract on librdkafka (confluent-kafka), measured in the ingest server, not used by it.

Issue 5 asked to measure a C-backed producer against aiokafka and choose on the numbers. In
bench/ingest_producers.py (32 writers in a loop awaiting their acks) librdkafka with `linger.ms=1`
cost ~11 µs of CPU per acknowledged record against aiokafka's ~24. In the server it does not:
bench/ingest_ablation.py runs the real ingest app with this producer swapped in (`with rdkafka`)
and (b) costs more server CPU per request than with aiokafka, not less (README, ingest
throughput). So ingest keeps aiokafka, and this stays a bench file that makes the claim reproducible.

Two ways of serving delivery reports were tried: a poll thread handing each batch to the loop
(worse: the thread contends for the GIL with the busy loop, 0.23 against 0.18 ms a request), and
what is here: the loop itself calls `poll(0)` every millisecond while records await their reports,
so the callbacks settle the futures on the loop's thread with no hand-over.

Semantics kept from `EventProducer`: `publish` returns only after acks=all and raises
`BrokerUnavailable` within `send_timeout_s` (also librdkafka's `message.timeout.ms`); bounded
buffering; `murmur2_random` (Java's murmur2 for keyed records, as `partition_by_key`); order kept
(idempotence, or one request in flight without it); a fatal error (a restarted in-memory broker
forgot the producer id) makes the next send start a new producer.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Sequence
from typing import Any

from confluent_kafka import KafkaError, KafkaException, Message, Producer

from shared.kafka.producer import BrokerUnavailable, Idempotence, OutgoingMessage
from shared.logging import get_logger

log = get_logger(__name__)

TICK_S = 0.001  # how often the loop serves delivery reports while records await them
IDLE_TICK_S = 0.5
MAX_QUEUED = 100_000  # messages librdkafka may hold unacknowledged; beyond, publish answers BrokerUnavailable


class RdKafkaProducer:
    def __init__(
        self,
        bootstrap: str,
        *,
        client_id: str,
        request_timeout_ms: int = 5000,
        send_timeout_s: float = 5.0,
        linger_ms: int = 1,
        idempotence: Idempotence = "auto",
    ) -> None:
        self._bootstrap = bootstrap
        self._send_timeout_s = send_timeout_s
        # Idempotence keeps order and drops duplicates on retry where the broker grants a producer
        # id (librdkafka asks for one; "auto" and "on" both ask, a refusal fails the sends).
        idempotent = idempotence != "off"
        self._config: dict[str, Any] = {
            "bootstrap.servers": bootstrap,
            "client.id": client_id,
            "acks": "all",
            "enable.idempotence": idempotent,
            "linger.ms": linger_ms,
            "message.timeout.ms": max(1, int(send_timeout_s * 1000)),
            "request.timeout.ms": request_timeout_ms,
            "retry.backoff.ms": 100,
            "partitioner": "murmur2_random",
            # A restarted broker is found again within a second (the default backs off to 10 s).
            "reconnect.backoff.ms": 100,
            "reconnect.backoff.max.ms": 1000,
            # Connection trouble reaches the log once per distinct error through error_cb; librdkafka's
            # own log keeps only what is critical (each refused reconnect would be a line).
            "log_level": 2,
            "log.connection.close": False,
            "queue.buffering.max.messages": MAX_QUEUED,
            "error_cb": self._on_error,
            "logger": logging.getLogger("leadrelay.rdkafka"),
        }
        if not idempotent:
            self._config["max.in.flight.requests.per.connection"] = 1  # retries cannot reorder
        self._idempotent = idempotent
        self._producer: Producer | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tick: asyncio.TimerHandle | None = None
        self._idle_tick: asyncio.TimerHandle | None = None
        self._pending = 0
        self._loop_thread = 0  # the event loop's thread, set on start
        self._fatal: KafkaError | None = None
        self._start_lock = asyncio.Lock()
        self._last_error = ""

    @property
    def idempotent(self) -> bool | None:
        return None if self._producer is None else self._idempotent

    async def start(self) -> None:
        """Connect; raises BrokerUnavailable if the broker cannot be reached now."""
        async with self._start_lock:
            if self._producer is not None and self._fatal is None:
                return
            await self._close()
            self._loop = asyncio.get_running_loop()
            self._loop_thread = threading.get_ident()
            producer = Producer(self._config)
            try:
                await self._loop.run_in_executor(None, _metadata, producer, self._send_timeout_s)
            except KafkaException as exc:
                await self._loop.run_in_executor(None, producer.flush, 0)
                raise BrokerUnavailable(f"cannot connect to Kafka at {self._bootstrap}: {exc!r}") from exc
            self._producer, self._fatal = producer, None
            self._idle_tick = self._loop.call_later(IDLE_TICK_S, self._idle)

    async def stop(self) -> None:
        async with self._start_lock:
            await self._close()

    async def _close(self) -> None:
        producer, self._producer = self._producer, None
        if producer is None:
            return
        loop = asyncio.get_running_loop()
        for tick in (self._tick, self._idle_tick):
            if tick is not None:
                tick.cancel()
        self._tick = self._idle_tick = None
        # What is queued gets its reports (a caller still waiting is answered), within a bound;
        # a producer that failed fatally cannot send them: they are failed at once.
        await loop.run_in_executor(None, _drain, producer, self._fatal is not None)

    async def publish(self, message: OutgoingMessage) -> None:
        """Send one message and wait for the broker's acknowledgement."""
        producer = await self._ready()
        future = self._produce(producer, message)
        await self._settle(future, 1)

    async def publish_many(self, messages: Sequence[OutgoingMessage]) -> None:
        """Send messages in order and wait until every one is acknowledged (or raise)."""
        if not messages:
            return
        producer = await self._ready()
        futures = [self._produce(producer, m) for m in messages]
        await self._settle(asyncio.gather(*futures), len(messages))

    async def healthy(self) -> bool:
        """True when the producer is connected and the cluster answers a metadata request."""
        try:
            producer = await self._ready()
            await asyncio.get_running_loop().run_in_executor(None, _metadata, producer, 2.0)
        except (BrokerUnavailable, KafkaException):
            return False
        return True

    async def _ready(self) -> Producer:
        if self._producer is None or self._fatal is not None:
            await self.start()  # after a fatal error (e.g. a restarted broker forgot our producer id): anew
        assert self._producer is not None
        return self._producer

    def _produce(self, producer: Producer, message: OutgoingMessage) -> asyncio.Future[None]:
        assert self._loop is not None
        future: asyncio.Future[None] = self._loop.create_future()
        headers: list[tuple[str, str | bytes | None]] = [*message.record_headers()]
        try:
            producer.produce(
                message.topic,
                message.value,
                message.key,
                headers=headers,
                on_delivery=self._reporter(future),
            )
        except BufferError as exc:  # MAX_QUEUED unacknowledged: the broker is not keeping up
            raise BrokerUnavailable("Kafka is not acknowledging writes (the send queue is full)") from exc
        except KafkaException as exc:
            raise BrokerUnavailable(f"Kafka refused the write: {exc!r}") from exc
        self._pending += 1
        if self._tick is None:
            self._tick = self._loop.call_later(TICK_S, self._poll)
        return future

    def _reporter(self, future: asyncio.Future[None]) -> Callable[[KafkaError | None, Message], None]:
        loop = future.get_loop()

        def delivered(error: KafkaError | None, _: Message) -> None:
            self._pending -= 1
            if threading.get_ident() == self._loop_thread:
                _settle_one(future, error)
                return
            try:  # served by `flush` on stop, off the loop: handed over
                loop.call_soon_threadsafe(_settle_one, future, error)
            except RuntimeError:  # the loop is closed: nobody is waiting any more
                pass

        return delivered

    async def _settle(self, waiting: asyncio.Future[Any], count: int) -> None:
        try:
            async with asyncio.timeout(self._send_timeout_s + 1.0):  # librdkafka times out first
                await waiting
        except (_Undelivered, TimeoutError) as exc:
            if isinstance(waiting, asyncio.Future) and not waiting.done():
                waiting.cancel()
            log.warning("kafka_publish_failed", error=str(exc) or repr(exc), messages=count)
            raise BrokerUnavailable(f"Kafka did not acknowledge the write: {exc!r}") from exc

    def _poll(self) -> None:
        """On the loop, every TICK_S while records await their reports: serve what has arrived
        (the callbacks settle the futures right here, no thread hand-over)."""
        self._tick = None
        producer = self._producer
        if producer is None:
            return
        try:
            producer.poll(0)
        except KafkaException as exc:  # fatal (e.g. a restarted broker forgot our producer id)
            self._fatal = exc.args[0]
            log.warning("kafka_producer_fatal", error=str(exc))
        if self._pending > 0 and self._loop is not None:
            self._tick = self._loop.call_later(TICK_S, self._poll)

    def _idle(self) -> None:
        """Errors and logs are served by poll too: now and then even with nothing in flight."""
        if self._tick is None:
            self._poll()
        if self._loop is not None and self._producer is not None:
            self._idle_tick = self._loop.call_later(IDLE_TICK_S, self._idle)

    def _on_error(self, error: KafkaError) -> None:
        """librdkafka's error callback (served by `poll`, on the loop): connection trouble is retried
        by librdkafka itself and surfaces to callers as timeouts; a fatal error makes the next send
        start anew."""
        if error.fatal():
            self._fatal = error
            log.warning("kafka_producer_fatal", error=error.str())
        elif error.str() != self._last_error:  # the same refusal every retry: say it once
            self._last_error = error.str()
            log.warning("kafka_producer_error", error=error.str())


class _Undelivered(Exception):
    """librdkafka reported a record as not delivered."""


def _settle_one(future: asyncio.Future[None], error: KafkaError | None) -> None:
    if future.done():
        return  # given up on (timed out) already
    if error is None:
        future.set_result(None)
    else:
        future.set_exception(_Undelivered(error.str()))


def _drain(producer: Producer, failed: bool) -> None:
    try:
        if failed:
            producer.purge()  # each queued record's report says it was not delivered
            producer.poll(0)
        producer.flush(0 if failed else 5.0)
    except KafkaException as exc:
        log.warning("kafka_producer_stop_failed", error=str(exc))


def _metadata(producer: Producer, timeout_s: float) -> None:
    producer.list_topics(timeout=timeout_s)
