"""The at-least-once consumer loop on the real broker and real databases."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.events import CloudEvent, EnvelopeError
from shared.kafka import ConsumerLoop, Delivery, EventProducer, PermanentError, ensure_topics
from shared.kafka.embedded import EmbeddedBroker
from tests.helpers.effects import count_effects, effect_handler, open_db
from tests.helpers.kafka_tools import TEST_SESSION_TIMEOUT_MS, committed, produce, read_topic, wait_committed

pytestmark = [pytest.mark.kafka, pytest.mark.db]
Handler = Callable[[Delivery], Awaitable[None]]


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine, sessions = await open_db(database_url)
    yield sessions
    await engine.dispose()


@pytest.fixture
async def topic(broker: EmbeddedBroker) -> str:
    name = f"t-{uuid.uuid4().hex[:10]}"
    await ensure_topics(broker.bootstrap, [name, name + ".dlq"], partitions=1)
    return name


@contextlib.asynccontextmanager
async def running(
    broker: EmbeddedBroker,
    topic: str,
    group: str,
    handler: Handler,
    max_attempts: int = 3,
    session_timeout_ms: int = TEST_SESSION_TIMEOUT_MS,
    poll_stall_s: float | None = None,
) -> AsyncIterator[tuple[ConsumerLoop, asyncio.Event]]:
    producer = EventProducer(broker.bootstrap, client_id="test-dlq")
    loop = ConsumerLoop(
        bootstrap=broker.bootstrap,
        group_id=group,
        topics=[topic],
        handler=handler,
        dead_letters=producer,
        dlq_topic=topic + ".dlq",
        max_attempts=max_attempts,
        retry_backoff_s=0.01,
        max_backoff_s=0.05,
        session_timeout_ms=session_timeout_ms,
        poll_stall_s=poll_stall_s,
    )
    stop = asyncio.Event()
    task = asyncio.create_task(loop.run(stop))
    try:
        yield loop, stop
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)
        await producer.stop()


async def eventually(check: Callable[[], Awaitable[bool]], timeout_s: float = 20.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.05)


async def test_offset_is_committed_only_after_the_handler_transaction(
    broker: EmbeddedBroker, topic: str, db: async_sessionmaker[AsyncSession]
) -> None:
    group = f"g-{uuid.uuid4().hex[:8]}"
    gate = asyncio.Event()

    async def hold(_: Delivery) -> None:
        await gate.wait()

    await produce(broker.bootstrap, topic, [b"one"])
    async with running(broker, topic, group, effect_handler(db, after_commit=hold)):
        await eventually(lambda: _has_effects(db, 1))
        # The effect is stored but the handler has not returned: nothing committed yet.
        assert await committed(broker.bootstrap, group, topic) == [None]
        gate.set()
        assert await wait_committed(broker.bootstrap, group, topic, [1]) == [1]


async def _has_effects(db: async_sessionmaker[AsyncSession], n: int) -> bool:
    return await count_effects(db) >= n


async def test_failing_transaction_never_commits_the_offset(
    broker: EmbeddedBroker, topic: str, db: async_sessionmaker[AsyncSession]
) -> None:
    group = f"g-{uuid.uuid4().hex[:8]}"
    calls = 0

    async def failing(_: Delivery) -> None:
        nonlocal calls
        calls += 1
        async with db() as session, session.begin():
            raise ConnectionError("database went away mid-transaction")  # transient: pause, never skip

    await produce(broker.bootstrap, topic, [b"x"])
    async with running(broker, topic, group, failing, max_attempts=2):
        await eventually(lambda: _at_least(lambda: calls, 5))
        assert await committed(broker.bootstrap, group, topic) == [None]
    assert await read_topic(broker.bootstrap, topic + ".dlq", expect=1, timeout_s=1) == []


async def test_readiness_tells_a_paused_consumer_from_an_idle_one(broker: EmbeddedBroker, topic: str) -> None:
    """Idle (nothing to read) is progress; stuck retrying a transient failure is not."""
    group = f"g-{uuid.uuid4().hex[:8]}"
    failing = asyncio.Event()

    async def handler(_: Delivery) -> None:
        if failing.is_set():
            raise ConnectionError("database down")

    async with running(broker, topic, group, handler) as (loop, _):
        await eventually(lambda: _true(loop.ready.is_set()))
        await asyncio.sleep(0.5)
        assert loop.making_progress(stall_s=0.4)  # idle rounds keep it ready
        failing.set()
        await produce(broker.bootstrap, topic, [b"x"])
        await asyncio.sleep(1.0)
        assert not loop.making_progress(stall_s=0.4)  # paused on the record: /readyz says not ready
        failing.clear()
        await eventually(lambda: _true(loop.making_progress(stall_s=0.4)))


async def _true(value: bool) -> bool:
    return value


async def _at_least(value: Callable[[], int], n: int) -> bool:
    return value() >= n


async def test_poison_message_is_dead_lettered_and_the_loop_goes_on(
    broker: EmbeddedBroker, topic: str, db: async_sessionmaker[AsyncSession]
) -> None:
    group = f"g-{uuid.uuid4().hex[:8]}"
    store = effect_handler(db)

    async def parse_then_store(delivery: Delivery) -> None:
        try:
            CloudEvent.from_bytes(delivery.value)
        except EnvelopeError as exc:
            raise PermanentError(str(exc)) from exc
        await store(delivery)

    good = CloudEvent(
        id="e1", source="t", type="lead.captured", time="2026-01-01T00:00:00Z", subject="l1", data={}
    ).to_bytes()
    await produce(broker.bootstrap, topic, [b"\x00not json{", good])
    async with running(broker, topic, group, parse_then_store):
        assert await wait_committed(broker.bootstrap, group, topic, [2]) == [2]
    assert await count_effects(db) == 1
    [dead] = await read_topic(broker.bootstrap, topic + ".dlq", expect=1)
    headers = dict(dead.headers)
    assert dead.value == b"\x00not json{"  # the original bytes, untouched
    assert b"not a CloudEvents" in headers["leadrelay-dlq-reason"]
    assert headers["leadrelay-dlq-topic"] == topic.encode()
    assert headers["leadrelay-dlq-offset"] == b"0"


async def test_bounded_retries_then_dead_letter(
    broker: EmbeddedBroker, topic: str, db: async_sessionmaker[AsyncSession]
) -> None:
    group = f"g-{uuid.uuid4().hex[:8]}"
    attempts: dict[int, int] = {}
    store = effect_handler(db)

    async def flaky(delivery: Delivery) -> None:
        attempts[delivery.offset] = attempts.get(delivery.offset, 0) + 1
        if delivery.value == b"always-bad" or (delivery.value == b"flaky" and attempts[delivery.offset] < 3):
            raise ValueError(f"cannot handle {delivery.value!r}")
        await store(delivery)

    await produce(broker.bootstrap, topic, [b"always-bad", b"flaky", b"fine"])
    async with running(broker, topic, group, flaky, max_attempts=3):
        assert await wait_committed(broker.bootstrap, group, topic, [3]) == [3]
    assert attempts == {0: 3, 1: 3, 2: 1}
    assert await count_effects(db) == 2
    dead = await read_topic(broker.bootstrap, topic + ".dlq", expect=1)
    assert [d.value for d in dead] == [b"always-bad"]
    assert dict(dead[0].headers)["leadrelay-dlq-attempts"] == b"3"
    assert b"ValueError" in dict(dead[0].headers)["leadrelay-dlq-reason"]


async def test_killed_before_commit_redelivers_and_the_effect_happens_once(
    broker: EmbeddedBroker,
    topic: str,
    database_url: str,
    db: async_sessionmaker[AsyncSession],
    tmp_path: Path,
) -> None:
    group = f"g-{uuid.uuid4().hex[:8]}"
    marker = tmp_path / "committed"
    await produce(broker.bootstrap, topic, [b"only-once"])
    args = [
        sys.executable,
        "-m",
        "tests.helpers.consumer_proc",
        "--bootstrap",
        broker.bootstrap,
        "--topic",
        topic,
        "--group",
        group,
        "--db",
        database_url,
        "--marker",
        str(marker),
    ]
    first = subprocess.Popen([*args, "--hang-after-commit"], start_new_session=True)
    try:
        for _ in range(300):
            if marker.exists():
                break
            await asyncio.sleep(0.1)
        assert marker.exists(), "the consumer never committed its transaction"
        os.killpg(first.pid, signal.SIGKILL)  # after the DB commit, before the offset commit
        first.wait(10)
        assert await committed(broker.bootstrap, group, topic) == [None]
        assert await count_effects(db) == 1

        second = subprocess.Popen(args, start_new_session=True)
        try:
            assert await wait_committed(broker.bootstrap, group, topic, [1], timeout_s=60) == [1]
        finally:
            os.killpg(second.pid, signal.SIGTERM)
            second.wait(30)
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
    assert await count_effects(db) == 1  # redelivered, deduplicated by the inbox


async def test_two_members_share_partitions_and_process_everything_once(
    broker: EmbeddedBroker, db: async_sessionmaker[AsyncSession]
) -> None:
    topic = f"t-{uuid.uuid4().hex[:10]}"
    await ensure_topics(broker.bootstrap, [topic, topic + ".dlq"], partitions=4)
    group = f"g-{uuid.uuid4().hex[:8]}"
    handler = effect_handler(db)
    producer_keys = [f"lead-{i}".encode() for i in range(40)]
    for key in producer_keys:
        await produce(broker.bootstrap, topic, [key], key=key)
    async with running(broker, topic, group, handler):
        await eventually(lambda: _has_effects(db, 10))
        # A second member joins mid-stream: partitions are revoked and reassigned.
        async with running(broker, topic, group, handler):
            await eventually(lambda: _has_effects(db, 40), timeout_s=40)
    offsets = await committed(broker.bootstrap, group, topic, partitions=4)
    assert await count_effects(db) == 40
    assert sum(o or 0 for o in offsets) == 40
