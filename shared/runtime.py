"""Background loops inside a service process, started and stopped by the web app's lifespan.

uvicorn owns SIGTERM/SIGINT; on shutdown the lifespan sets `stop`, the loops finish the
message in hand, commit, and return. A loop that dies unexpectedly takes the process down
(SIGTERM to itself) so a supervisor restarts it instead of leaving a zombie that serves /healthz.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from shared.db import is_transient_db_error
from shared.db.migrate import migrate_service
from shared.events import Topics
from shared.kafka import ConsumerLoop, EventProducer, ensure_topics
from shared.kafka.consumer import default_is_transient
from shared.kafka.records import Handler
from shared.logging import get_logger
from shared.settings import CommonSettings

log = get_logger(__name__)

Loop = Callable[[asyncio.Event], Coroutine[Any, Any, None]]


def is_transient_failure(exc: BaseException) -> bool:
    """Broker or database unreachable: a consumer pauses and retries rather than dead-lettering."""
    return default_is_transient(exc) or is_transient_db_error(exc)


def service_producer(common: CommonSettings, client_id: str) -> EventProducer:
    return EventProducer(
        common.kafka_bootstrap,
        client_id=client_id,
        request_timeout_ms=common.kafka_request_timeout_ms,
        send_timeout_s=common.kafka_send_timeout_s,
    )


def service_consumer(
    common: CommonSettings,
    *,
    group_id: str,
    topics: list[str],
    handler: Handler,
    dead_letters: EventProducer,
    max_attempts: int,
) -> ConsumerLoop:
    """A service's consumer: dead letters to the configured DLQ, pauses on infrastructure failures."""
    return ConsumerLoop(
        bootstrap=common.kafka_bootstrap,
        group_id=group_id,
        topics=topics,
        handler=handler,
        dead_letters=dead_letters,
        dlq_topic=Topics(common.topic_prefix).dlq,
        max_attempts=max_attempts,
        is_transient=is_transient_failure,
        fetch_max_wait_ms=common.kafka_fetch_max_wait_ms,
        session_timeout_ms=common.kafka_session_timeout_ms,
    )


async def prepare_service(engine: AsyncEngine, service: str, common: CommonSettings) -> None:
    """At start-up: the service's own migrations, then the topics (idempotent, safe in parallel)."""
    await migrate_service(engine, service)
    topics = Topics(common.topic_prefix).all()
    await ensure_topics(common.kafka_bootstrap, topics, partitions=common.kafka_partitions)


def every(seconds: float, job: Callable[[], Awaitable[object]], name: str) -> Loop:
    """A loop running `job` now and then every `seconds`; a transient failure waits for the next round."""

    async def loop(stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await job()
            except Exception as exc:
                if not is_transient_failure(exc):
                    raise
                log.warning("periodic_job_failed", job=name, error=repr(exc))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), seconds)

    return loop


class BackgroundLoops:
    def __init__(self) -> None:
        self.stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    def start(self, name: str, loop: Loop) -> None:
        task = asyncio.create_task(loop(self.stop), name=name)
        task.add_done_callback(self._on_done)
        self._tasks.append(task)

    def _on_done(self, task: asyncio.Task[None]) -> None:
        if task.cancelled() or self.stop.is_set():
            return
        exc = task.exception()
        log.error("background_loop_died", loop=task.get_name(), error=repr(exc))
        os.kill(os.getpid(), signal.SIGTERM)

    async def shutdown(self, timeout_s: float = 15.0) -> None:
        self.stop.set()
        if not self._tasks:
            return
        done, pending = await asyncio.wait(self._tasks, timeout=timeout_s)
        for task in pending:
            task.cancel()
        for task in done:
            if not task.cancelled() and task.exception() is not None:
                log.error("background_loop_failed", loop=task.get_name(), error=repr(task.exception()))


def serve(app: Any, host: str, port: int) -> None:
    """Run an ASGI app under uvicorn with our logging (uvicorn handles SIGTERM/SIGINT)."""
    import uvicorn

    # uvicorn shuts down gracefully on SIGTERM, then re-raises it to the previous handler:
    # make that handler a clean exit (0), so supervisors can tell a stop from a crash.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=20,
    )
