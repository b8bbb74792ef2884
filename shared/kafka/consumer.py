"""At-least-once consumer loop.

Contract with the handler: the handler makes its effect durable (its own database
transaction, deduplicated by event id) before it returns; only then is the offset
committed. So a crash at any point redelivers, and the handler's dedupe makes the
effect happen once.

Failures are sorted three ways:
- `PermanentError` (bad bytes, bad schema): dead-lettered at once, the loop goes on;
- transient infrastructure errors (database or broker down): retried without limit,
  so consumption pauses and nothing is committed past what is stored;
- anything else: retried `max_attempts` times with backoff, then dead-lettered with
  the reason and the original bytes.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaError

from shared.backoff import Backoff
from shared.kafka.dead_letter import dead_letter
from shared.kafka.membership import EndTermOnRevoke, commit_once, coordinator_connection
from shared.kafka.producer import BrokerUnavailable, EventProducer
from shared.kafka.records import BatchHandler, Delivery, Handler, PermanentError, TransientCheck
from shared.kafka.stall import PollStalled, abandon, default_poll_stall_s, request_timeout_ms
from shared.logging import get_logger
from shared.observability import HANDLER_SECONDS, MESSAGES

log = get_logger(__name__)


def default_is_transient(exc: BaseException) -> bool:
    return isinstance(exc, (BrokerUnavailable, KafkaError, ConnectionError, OSError, TimeoutError))


def _delivery(record: ConsumerRecord[bytes, bytes]) -> Delivery:
    return Delivery(
        record.topic, record.partition, record.offset, record.key, record.value, tuple(record.headers or ())
    )


METADATA_MAX_AGE_MS = 10_000


class ConsumerLoop:
    def __init__(
        self,
        *,
        bootstrap: str,
        group_id: str,
        topics: Sequence[str],
        handler: Handler,
        dead_letters: EventProducer,
        dlq_topic: str,
        max_attempts: int = 5,
        retry_backoff_s: float = 0.2,
        max_backoff_s: float = 5.0,
        max_batch: int = 200,
        is_transient: TransientCheck = default_is_transient,
        session_timeout_ms: int = 10000,
        fetch_max_wait_ms: int = 500,
        batch_handler: BatchHandler | None = None,
        poll_stall_s: float | None = None,
    ) -> None:
        self._bootstrap = bootstrap
        self._group_id = group_id
        self._topics = list(topics)
        self._handler = handler
        self._dead_letters = dead_letters
        self._dlq_topic = dlq_topic
        self._max_attempts = max_attempts
        self._retry_backoff_s = retry_backoff_s
        self._max_backoff_s = max_backoff_s
        self._max_batch = max_batch
        self._is_transient = is_transient
        self._session_timeout_ms = session_timeout_ms
        self._fetch_max_wait_ms = fetch_max_wait_ms
        self.batch_handler = batch_handler
        self._poll_stall_s = poll_stall_s or default_poll_stall_s(session_timeout_ms)
        # How many times a stuck poll had the consumer replaced (shared/kafka/stall.py).
        self.recreated = 0
        self._consumer: AIOKafkaConsumer | None = None
        # Offsets whose effect is durable but not yet committed to Kafka.
        self._processed: dict[TopicPartition, int] = {}
        # Which membership term the loop is in: every rejoin of the group starts a new one. A
        # record fetched in one term and finished in another is not marked: its offset may belong
        # to a log the broker no longer has (a reset), and the group redelivers it anyway.
        self._term = 0
        # The coordinator connection the term began on: offsets go to that broker or nowhere.
        self._session: object | None = None
        self.ready = asyncio.Event()
        # How many assignments the group has handed this loop (each join or rebalance adds one).
        self.assignments = 0
        # When the loop last finished a round (a poll, its records handled, offsets committed). A loop
        # stuck retrying (database down) or hung stops advancing it: readiness reports that.
        self.last_round = time.monotonic()

    @property
    def consumer(self) -> AIOKafkaConsumer | None:
        """The client in use (None between runs, and while a stalled one is replaced)."""
        return self._consumer

    @property
    def handler(self) -> Handler:
        return self._handler

    @handler.setter
    def handler(self, handler: Handler) -> None:
        """Replace the per-record handler before `run` (e.g. to put an erasure step in front)."""
        self._handler = handler

    def making_progress(self, stall_s: float = 30.0) -> bool:
        """Ready (partitions assigned) and a round finished within `stall_s`."""
        return self.ready.is_set() and time.monotonic() - self.last_round < stall_s

    async def run(self, stop: asyncio.Event) -> None:
        while True:
            consumer = self._subscribe()
            try:
                await self._start_with_retry(consumer, stop)
            except BaseException:
                self._consumer = None
                raise
            log.info("consumer_started", group=self._group_id, topics=self._topics)
            stalled = False
            try:
                await self._consume(consumer, stop)
            except PollStalled as exc:
                # A stuck member (shared/kafka/stall.py): nothing it read is committed; a new
                # consumer joins as a new member and the group redelivers the rest.
                stalled = True
                self._leave_term()
                self.recreated += 1
                log.warning("consumer_poll_stalled", group=self._group_id, stalled_s=exc.stalled_s)
            finally:
                if stalled:
                    await abandon(consumer)
                else:
                    await self.commit_processed()
                    await consumer.stop()
                self._consumer = None
                log.info("consumer_stopped", group=self._group_id)
            if not stalled or stop.is_set():
                return

    def _subscribe(self) -> AIOKafkaConsumer:
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self._bootstrap,
            group_id=self._group_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            session_timeout_ms=self._session_timeout_ms,
            heartbeat_interval_ms=max(1000, self._session_timeout_ms // 4),
            max_poll_interval_ms=300_000,
            request_timeout_ms=request_timeout_ms(self._session_timeout_ms),
            # How soon a changed partition count is seen (and the group rebalanced onto it): after a
            # broker reset, a topic can come back auto-created with more partitions than before,
            # and at the 5-minute default the extra partitions went unread for 5 minutes.
            metadata_max_age_ms=METADATA_MAX_AGE_MS,
            fetch_max_wait_ms=self._fetch_max_wait_ms,
        )
        consumer.subscribe(self._topics, listener=EndTermOnRevoke(self, consumer))
        self._consumer = consumer  # from the first join on: the rebalance listener reads it
        return consumer

    async def _poll(
        self, consumer: AIOKafkaConsumer
    ) -> dict[TopicPartition, list[ConsumerRecord[bytes, bytes]]]:
        deadline = asyncio.timeout(self._poll_stall_s)
        try:
            async with deadline:
                batches: dict[TopicPartition, list[ConsumerRecord[bytes, bytes]]] = await consumer.getmany(
                    timeout_ms=200, max_records=self._max_batch
                )
                return batches
        except TimeoutError:
            if deadline.expired():
                raise PollStalled(self._poll_stall_s) from None
            raise

    async def _consume(self, consumer: AIOKafkaConsumer, stop: asyncio.Event) -> None:
        while not stop.is_set():
            batches = await self._poll(consumer)
            term = self._term
            if consumer.assignment():
                self.ready.set()
            for tp, records in batches.items():
                if self.batch_handler is not None and len(records) > 1:
                    if stop.is_set() or not self._still_owned(tp, term):
                        continue
                    if await self._process_batch(tp, [_delivery(r) for r in records], term):
                        continue
                for record in records:
                    if stop.is_set() or not self._still_owned(tp, term):
                        break  # revoked or rejoined mid-batch, or stopping: redelivered
                    await self._process(_delivery(record), stop, term)
            await self._commit_round(consumer)
            self.last_round = time.monotonic()

    async def _start_with_retry(self, consumer: AIOKafkaConsumer, stop: asyncio.Event) -> None:
        backoff = self._backoff()
        while True:
            try:
                await consumer.start()
                return
            except (KafkaError, OSError) as exc:
                if stop.is_set():
                    raise
                log.warning("consumer_start_retry", error=repr(exc), retry_in_s=backoff.delay_s)
                await backoff.wait()

    def _still_owned(self, tp: TopicPartition, term: int) -> bool:
        consumer = self._consumer
        return consumer is not None and term == self._term and tp in consumer.assignment()

    def _mark(self, tp: TopicPartition, next_offset: int, term: int) -> None:
        if term == self._term:
            self._processed[tp] = next_offset

    def _backoff(self) -> Backoff:
        return Backoff(self._retry_backoff_s, self._max_backoff_s)

    async def _process_batch(self, tp: TopicPartition, deliveries: list[Delivery], term: int) -> bool:
        """True when the batch handler made the whole batch durable; False: go one by one."""
        assert self.batch_handler is not None
        try:
            with HANDLER_SECONDS.labels(self._group_id).time():
                await self.batch_handler(deliveries)
        except Exception as exc:  # the per-record path sorts it out (retry, pause, dead-letter)
            log.warning(
                "batch_failed_one_by_one",
                error=repr(exc),
                topic=tp.topic,
                partition=tp.partition,
                size=len(deliveries),
            )
            return False
        MESSAGES.labels(self._group_id, tp.topic, "ok").inc(len(deliveries))
        self._mark(tp, deliveries[-1].offset + 1, term)
        return True

    async def _process(self, delivery: Delivery, stop: asyncio.Event, term: int) -> None:
        tp = TopicPartition(delivery.topic, delivery.partition)
        attempt = 0
        backoff = self._backoff()
        while True:
            attempt += 1
            try:
                with HANDLER_SECONDS.labels(self._group_id).time():
                    await self._handler(delivery)
                MESSAGES.labels(self._group_id, delivery.topic, "ok").inc()
                break
            except PermanentError as exc:
                await self._dead_letter(delivery, exc, attempt, stop)
                break
            except Exception as exc:  # sorted below: pause (transient), retry, or dead-letter
                if self._is_transient(exc):
                    # Infrastructure is down: pause here, never skip or dead-letter the message.
                    log.warning(
                        "handler_transient_failure",
                        error=repr(exc),
                        offset=delivery.offset,
                        topic=delivery.topic,
                        partition=delivery.partition,
                        retry_in_s=backoff.delay_s,
                    )
                    attempt -= 1
                elif attempt >= self._max_attempts:
                    await self._dead_letter(delivery, exc, attempt, stop)
                    break
                else:
                    log.warning(
                        "handler_failed_retrying",
                        error=repr(exc),
                        attempt=attempt,
                        topic=delivery.topic,
                        partition=delivery.partition,
                        offset=delivery.offset,
                    )
                if stop.is_set():
                    return  # not processed: not marked, so it is redelivered after restart
                await backoff.wait()
        self._mark(tp, delivery.offset + 1, term)

    async def _dead_letter(
        self, delivery: Delivery, exc: BaseException, attempts: int, stop: asyncio.Event
    ) -> None:
        await dead_letter(
            self._dead_letters, self._dlq_topic, self._group_id, delivery, exc, attempts, stop, self._backoff
        )

    def begin_membership_term(self) -> None:
        """Partitions assigned: the term's records come from the broker the group now talks to."""
        if self._consumer is not None:
            self._session = coordinator_connection(self._consumer)

    async def end_membership_term(self, revoked: set[TopicPartition]) -> None:
        """Before the group rejoins: commit what is done, if this member can still commit it
        (`commit_once`); otherwise the partitions are lost, not revoked, and the offsets dropped."""
        if not await self.commit_processed(revoked) and self._processed:
            log.warning(
                "kafka_partitions_lost",
                group=self._group_id,
                uncommitted=sorted(f"{tp.topic}[{tp.partition}]" for tp in self._processed),
            )
        self._leave_term()

    def _leave_term(self) -> None:
        """Nothing read so far is marked or committed any more (a new term number, no session)."""
        self._processed.clear()
        self._term += 1
        self._session = None

    async def commit_processed(self, only: set[TopicPartition] | None = None) -> bool:
        """Commit the offsets whose effect is durable; False when this member may not (fenced)."""
        consumer = self._consumer
        offsets = {tp: off for tp, off in self._processed.items() if only is None or tp in only}
        if consumer is None or not offsets:
            return True
        try:
            if not await commit_once(consumer, offsets, self._session):
                # The coordinator connection the records came over is gone (a broker restarted
                # with empty logs would take an old offset), or the group forgot this member.
                log.warning("offset_commit_fenced", group=self._group_id, partitions=len(offsets))
                return False
        except KafkaError as exc:
            # The group moved on; the new owner redelivers and the handler's dedupe absorbs it.
            log.warning("offset_commit_failed", error=repr(exc))
        for tp, off in offsets.items():
            if self._processed.get(tp) == off:
                del self._processed[tp]
        return True

    async def _commit_round(self, consumer: AIOKafkaConsumer) -> None:
        if not await self.commit_processed():
            # Rejoin: the new term reads from what this broker has committed, and redelivers the
            # rest. Until then nothing read in this term is marked.
            self._leave_term()
            consumer._coordinator.request_rejoin()
