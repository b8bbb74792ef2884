"""EventProducer.publish's deadline: one sweep timer fails every acknowledgement not received in time.

The sweep is driven here with futures no broker will ever settle (a broker that hangs is the kafka
test's business, tests/kafka/test_producer.py): what is checked is the bookkeeping alone.
"""

from __future__ import annotations

import asyncio

import pytest

from shared.kafka.producer import SWEEP_EVERY_S, EventProducer

pytestmark = pytest.mark.unit


def _producer() -> EventProducer:
    return EventProducer("127.0.0.1:9", client_id="deadline-test", send_timeout_s=0.3)


async def test_an_acknowledgement_not_received_by_its_deadline_fails_with_a_timeout() -> None:
    producer, loop = _producer(), asyncio.get_running_loop()
    never: asyncio.Future[None] = loop.create_future()
    started = loop.time()
    producer._watch(never, started + 0.3, loop)
    with pytest.raises(TimeoutError):
        await never
    assert 0.3 <= loop.time() - started <= 0.3 + 2 * SWEEP_EVERY_S + 0.1
    await asyncio.sleep(SWEEP_EVERY_S * 1.5)
    assert producer._sweep is None and not producer._waiting  # nothing waits: no timer left running


async def test_settled_acknowledgements_are_dropped_and_left_alone() -> None:
    producer, loop = _producer(), asyncio.get_running_loop()
    acked: list[asyncio.Future[None]] = [loop.create_future() for _ in range(3)]
    for future in acked:
        producer._watch(future, loop.time() + 0.3, loop)
    for future in acked:
        future.set_result(None)
    await asyncio.sleep(SWEEP_EVERY_S * 1.5)
    assert not producer._waiting and producer._sweep is None
    assert [f.result() for f in acked] == [None, None, None]


async def test_a_wait_whose_deadline_passed_during_send_fails_at_once() -> None:
    producer, loop = _producer(), asyncio.get_running_loop()
    late: asyncio.Future[None] = loop.create_future()
    producer._watch(late, loop.time() - 0.01, loop)
    assert late.done() and isinstance(late.exception(), TimeoutError)
    assert not producer._waiting


async def test_stop_fails_what_still_waits() -> None:
    producer, loop = _producer(), asyncio.get_running_loop()
    pending: asyncio.Future[None] = loop.create_future()
    producer._watch(pending, loop.time() + 30, loop)
    await producer.stop()
    assert isinstance(pending.exception(), TimeoutError)
    assert producer._sweep is None and not producer._waiting
