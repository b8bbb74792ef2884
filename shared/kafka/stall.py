"""A consumer whose poll never returns, and how the loop replaces it.

While the group rebalances, aiokafka's `getmany` ignores its timeout and waits for the next
assignment without limit. A rejoin that never completes therefore stops consumption silently:
no record, no error, no log (seen once after a second reset of the embedded broker, where the
router's coordinator stayed silent for minutes while ingest kept accepting leads). aiokafka has no
public state to watch for it (aio-libs/aiokafka#1154; the accessor proposed there was not merged),
so the loop bounds the poll itself: a poll that has not returned after `poll_stall_s` ends the
consumer, and a new one joins the group as a new member. Nothing it read is committed (the loop
ends the membership term first), so the group redelivers it and the handler's dedupe absorbs it.
"""

from __future__ import annotations

import asyncio

from aiokafka import AIOKafkaConsumer
from aiokafka.errors import KafkaError

from shared.logging import get_logger

log = get_logger(__name__)


class PollStalled(Exception):
    """`getmany` did not return within the loop's stall bound: the group membership is stuck."""

    def __init__(self, stalled_s: float) -> None:
        super().__init__(f"no poll returned within {stalled_s:g} s")
        self.stalled_s = stalled_s


def default_poll_stall_s(session_timeout_ms: int) -> float:
    """Well above a normal rebalance, which the broker bounds by the session (rebalance) timeout,
    plus a request timeout for each step of the join."""
    return max(30.0, 6 * session_timeout_ms / 1000)


def request_timeout_ms(session_timeout_ms: int) -> int:
    """Each request to the broker, bounded: a JoinGroup may be held for the rebalance timeout (the
    session timeout here), so a little above that. At aiokafka's default (40 s), one coordinator
    lookup over a new connection (connect, handshake, request) can wait up to two minutes without
    a log line (read in aiokafka 0.14's client and connection code, not measured)."""
    return session_timeout_ms + 5_000


ABANDON_TIMEOUT_S = 10.0


async def abandon(consumer: AIOKafkaConsumer, timeout_s: float = ABANDON_TIMEOUT_S) -> None:
    """Stop a consumer whose membership is stuck, within `timeout_s`.

    `stop()` waits for aiokafka's coordination task without limit, and that task is what is stuck;
    when it does not finish in time, cancel the heartbeat it leaves behind and close the client's
    connections, so the old member neither heartbeats nor fetches any more."""
    try:
        await asyncio.wait_for(consumer.stop(), timeout_s)
        return
    except TimeoutError:
        log.warning("consumer_stop_timed_out", timeout_s=timeout_s)
    except KafkaError as exc:  # leaving the group failed: the broker expires the member instead
        log.warning("consumer_stop_failed", error=repr(exc))
        return
    heartbeat = getattr(getattr(consumer, "_coordinator", None), "_heartbeat_task", None)
    if heartbeat is not None:
        heartbeat.cancel()
    try:
        await asyncio.wait_for(consumer._client.close(), timeout_s)
    except (TimeoutError, KafkaError, OSError) as exc:
        log.warning("consumer_client_close_failed", error=repr(exc))
