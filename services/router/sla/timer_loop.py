"""The SLA timer loop: a background loop of the router (`service.loops["sla-timers"]`).

Each round claims a page of due timers (see `SlaRepository.claim_due`) and, in that one
transaction, applies the page (`Ladder.fire_page`: a few bulk reads, pure steps, bulk writes),
writes the events to the outbox and marks the rows fired. A full page means more are due: the
next round starts at once.
It fires on the wall clock whether or not events arrive; "now" is the injected `Clock`, so a
timer never fires before its deadline by that clock. Between rounds it sleeps until the next
deadline, at most `poll_interval_s` (so a timer added meanwhile waits at most that long).
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.router.observability import SLA_TIMER_LATENESS, SLA_TIMERS_FIRED
from services.router.sla.ladder import Ladder
from services.router.sla.repository import SlaRepository
from shared.backoff import Backoff
from shared.db import is_transient_db_error
from shared.events import Topics
from shared.logging import get_logger
from shared.waiting import first_of

log = get_logger(__name__)


class SlaTimerLoop:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        ladder: Ladder,
        topics: Topics,
        *,
        on_commit: Callable[[], None] = lambda: None,
        batch_size: int = 200,
        poll_interval_s: float = 0.5,
    ) -> None:
        self._sessions = sessions
        self._ladder = ladder
        self._clock = ladder.sla.clock
        self._topics = topics
        self._on_commit = on_commit
        self._batch_size = batch_size
        self._poll_interval_s = poll_interval_s
        self._wakeup = asyncio.Event()
        self.fired = 0

    def wakeup(self) -> None:
        self._wakeup.set()

    async def fire_due(self) -> int:
        """One round: claim, apply and mark up to `batch_size` due timers; how many were claimed."""
        now = self._clock.now()
        token = uuid.uuid4().hex
        async with self._sessions() as session, session.begin():
            repo = SlaRepository(session)
            due = await repo.claim_due(now, self._batch_size, token)
            if not due:
                return 0
            plan = await self._ladder.fire_page(session, due, now, self._topics.handoffs)
            fired_at = self._clock.now()
            await repo.mark_fired([t.id for t in plan.fired], fired_at)
            await repo.mark_cancelled(plan.cancelled)
            await repo.mark_held(plan.held)
        committed = self._clock.now()
        for timer in plan.fired:
            SLA_TIMERS_FIRED.labels(timer.kind).inc()
            SLA_TIMER_LATENESS.observe(max(0.0, (committed - timer.due_at).total_seconds()))
        self.fired += len(plan.fired)
        if plan.events:
            self._on_commit()
        log.info(
            "sla_timers_fired",
            fired=len(plan.fired),
            cancelled=len(plan.cancelled),
            held=len(plan.held),
            events=len(plan.events),
        )
        return len(due)

    async def _sleep_s(self) -> float:
        async with self._sessions() as session:
            next_due = await SlaRepository(session).next_due()
        if next_due is None:
            return self._poll_interval_s
        wait = (next_due - self._clock.now()).total_seconds()
        return min(self._poll_interval_s, max(0.0, wait))

    async def run(self, stop: asyncio.Event) -> None:
        backoff = Backoff()
        while not stop.is_set():
            self._wakeup.clear()
            try:
                while await self.fire_due() == self._batch_size and not stop.is_set():
                    pass
                sleep_s = await self._sleep_s()
                backoff.reset()
            except Exception as exc:
                if not is_transient_db_error(exc):
                    raise  # a bug: let the process die and be restarted, timers stay pending
                log.warning("sla_timers_retry", error=repr(exc), retry_in_s=backoff.delay_s)
                await backoff.wait()
                continue
            if sleep_s > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(first_of(stop, self._wakeup), sleep_s)
