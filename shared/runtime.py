"""Background loops inside a service process, started and stopped by the web app's lifespan.

uvicorn owns SIGTERM/SIGINT; on shutdown the lifespan sets `stop`, the loops finish the
message in hand, commit, and return. A loop that dies unexpectedly takes the process down
(SIGTERM to itself) so a supervisor restarts it instead of leaving a zombie that serves /healthz.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Callable, Coroutine
from typing import Any

from shared.db import is_transient_db_error
from shared.kafka.consumer import default_is_transient
from shared.logging import get_logger

log = get_logger(__name__)

Loop = Callable[[asyncio.Event], Coroutine[Any, Any, None]]


def is_transient_failure(exc: BaseException) -> bool:
    """Broker or database unreachable: a consumer pauses and retries rather than dead-lettering."""
    return default_is_transient(exc) or is_transient_db_error(exc)


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
