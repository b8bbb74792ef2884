"""The dispatcher: sends due messages, each target on its own lane, and records every attempt.

Isolation: each target has its own concurrency budget (and its own HTTP connection pool), and a
round only takes as many of a target's messages as it has free slots, so a slow or dead endpoint
fills its own lane and nobody else's. Order: a message is eligible only when it is the oldest
unfinished message of its lead for that target, so one lead's events reach a target in order
(a message waiting for its retry holds the lead's later ones back, never other leads').

Durability: the schedule lives in `delivery_messages` (tries, next_attempt_at), written after
every attempt; a restart picks up where it was and never sends before `next_attempt_at` by the
injected clock. A crash between a send and its record resends it (same `webhook-id`), except on
at-most-once targets (Slack, email), which are marked before sending and dead-lettered instead.

Several instances: a message is claimed with a lease before it is sent (claims_repository.py), so
two dispatchers on one database split the due messages; the leases of what an instance holds are
renewed every third of the lease, and a crashed instance's run out and are taken over.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import time
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta
from functools import partial

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.delivery.claims_repository import ClaimRepository
from services.delivery.clock import Clock
from services.delivery.observability import ATTEMPTS, DELIVERY_LAG
from services.delivery.outcome import Outcome, decide
from services.delivery.repository import AttemptResult, DeliveryRepository, Message
from services.delivery.senders import Target
from shared.backoff import Backoff
from shared.db import is_transient_db_error
from shared.logging import get_logger
from shared.waiting import first_of

log = get_logger(__name__)
# PostgreSQL's deadlock victim and serialization failure: the transaction is rolled back, try again.
RETRY_SQLSTATES = ("40P01", "40001")
Step = Callable[[DeliveryRepository], Awaitable[None]]
BUFFER = 4  # messages picked per target: this many times its concurrency
MIN_ROUND_S = 0.01  # rounds at most this often: a burst of commits makes one round, not one each
DEFAULT_LEASE_S = 30.0


def retryable(exc: BaseException) -> bool:
    """Database down or busy (wait and retry), or this transaction lost a lock race (retry)."""
    orig = getattr(exc, "orig", None)
    states = {getattr(e, "sqlstate", None) for e in (exc, orig, getattr(orig, "__cause__", None))}
    return is_transient_db_error(exc) or any(state in RETRY_SQLSTATES for state in states)


def instance_id() -> str:
    """Who holds a claim: readable in the table (host, pid), unique across restarts."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Dispatcher:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        targets: Mapping[str, Target],
        clock: Clock,
        *,
        poll_interval_s: float = 1.0,
        on_delivered: Callable[[Message], None] | None = None,
        lease_s: float = DEFAULT_LEASE_S,
        owner: str | None = None,
    ) -> None:
        self._sessions = sessions
        self.owner = owner or instance_id()
        self._lease_s = lease_s
        self._renewed_at = self._recovered_at = time.monotonic()
        self._targets = dict(targets)
        self._clock = clock
        self._poll_interval_s = poll_interval_s
        self._on_delivered = on_delivered
        self._busy: dict[str, set[int]] = defaultdict(set)
        self._slots: dict[str, asyncio.Semaphore] = {}
        self._gone: set[str] = set()
        self._stopping = False
        self._tasks: set[asyncio.Task[None]] = set()
        self._wakeup = asyncio.Event()
        self._results: list[tuple[AttemptResult, asyncio.Future[None]]] = []
        self._flusher: asyncio.Task[None] | None = None
        self.delivered = 0

    @property
    def targets(self) -> Mapping[str, Target]:
        return self._targets

    def wakeup(self) -> None:
        self._wakeup.set()

    def _busy_ids(self) -> set[int]:
        return {i for ids in self._busy.values() for i in ids}

    async def pump(self) -> int:
        """One round: claim and start a send for every due, eligible message a target has room for."""
        now = self._clock.now()
        lease_until = now + timedelta(seconds=self._lease_s)
        picked: list[tuple[Target, Message]] = []
        unknown: list[str] = []
        async with self._sessions() as session, session.begin():
            repo, claims = DeliveryRepository(session), ClaimRepository(session)
            if time.monotonic() - self._renewed_at >= self._lease_s / 3:
                await claims.renew(self._busy_ids(), self.owner, lease_until)
                self._renewed_at = time.monotonic()
            if time.monotonic() - self._recovered_at >= self._lease_s:
                await self._recover(claims, now)
            disabled = await repo.disabled_targets()
            self._gone &= disabled  # a replay enabled them again
            for name in await repo.due_targets(now):
                target = self._targets.get(name)
                if target is None:
                    unknown.append(name)
                    continue
                # Picked ahead of its slots (a small buffer) so a round is rarely spent on one message.
                free = target.concurrency * BUFFER - len(self._busy[name])
                if name in disabled or free <= 0:
                    continue
                claimed = await claims.claim(
                    name, now, free, owner=self.owner, lease_until=lease_until, busy=self._busy[name]
                )
                picked += [(target, m) for m in claimed]
        if unknown:
            await self._dead_letter_unknown(unknown)
        for target, message in picked:
            self._busy[target.name].add(message.id)
            task = asyncio.create_task(self._deliver(target, message), name=f"deliver-{message.id}")
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return len(picked)

    async def _dead_letter_unknown(self, names: list[str]) -> None:
        async with self._sessions() as session, session.begin():
            for name in names:
                reason = f"no target {name!r} in the config (removed?): fix the config, then replay"
                await DeliveryRepository(session).dead_letter_target(name, reason, self._clock.now())
                log.warning("delivery_target_unknown", target=name)

    async def _deliver(self, target: Target, message: Message) -> None:
        slots = self._slots.setdefault(target.name, asyncio.Semaphore(target.concurrency))
        try:
            async with slots:
                await self._send(target, message)
        finally:
            self._busy[target.name].discard(message.id)
            if len(self._busy[target.name]) <= target.concurrency:
                self._wakeup.set()  # the buffer runs low: fetch more

    async def _send(self, target: Target, message: Message) -> None:
        if target.name in self._gone or self._stopping:
            return  # disabled (410) while buffered: dead-lettered already; stopping: stays pending
        if target.at_most_once:
            await self._write(lambda repo: repo.mark_sending(message.id, self._clock.now()))
        if target.limiter is not None:
            await target.limiter.acquire()
        started, t0 = self._clock.now(), time.perf_counter()
        try:
            outcome = await target.sender.send(message)
        except Exception as exc:  # a sender bug must not kill the lane: recorded as a failed try
            log.exception("delivery_sender_error", target=target.name, message_id=message.message_id)
            outcome = Outcome(False, None, f"sender error: {type(exc).__name__}")
        duration_ms = (time.perf_counter() - t0) * 1000
        now = self._clock.now()
        decision = decide(outcome, message.tries + 1, target.schedule, now)
        result = AttemptResult(
            message, started, duration_ms, outcome.status_code, decision.next, outcome.reason,
            decision.next_attempt_at,
        )  # fmt: skip

        if decision.next == "gone":
            self._gone.add(target.name)
        await self._record(result)
        self._observe(target, message, result)

    def _observe(self, target: Target, message: Message, result: AttemptResult) -> None:
        ATTEMPTS.labels(target.name.split(":", 1)[0], result.outcome).inc()
        if result.outcome == "delivered":
            self.delivered += 1
            DELIVERY_LAG.observe(max(0.0, (self._clock.now() - message.created_at).total_seconds()))
            if self._on_delivered is not None:
                self._on_delivered(message)
        elif result.outcome != "retry":
            log.warning(
                "delivery_dead_lettered",
                target=target.name,
                message_id=message.message_id,
                event_type=message.event_type,
                attempts=message.attempts + 1,
                reason=result.reason[:300],
            )

    async def _record(self, result: AttemptResult) -> None:
        """Group commit: results that finish together are written in one transaction (one
        statement for their messages, one for their attempts). The send stays busy (never picked
        again) until its result is stored."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._results.append((result, done))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush())
        await done

    async def _flush(self) -> None:
        while self._results:
            batch, self._results = self._results, []
            try:
                await self._write(partial(self._store, [result for result, _ in batch]))
            except Exception as exc:
                for _, done in batch:
                    done.set_exception(exc)
                continue
            for _, done in batch:
                done.set_result(None)

    async def _store(self, results: list[AttemptResult], repo: DeliveryRepository) -> None:
        now = self._clock.now()
        await repo.record(results, now)
        for r in results:
            if r.outcome == "gone":  # 410: disable the target, dead-letter its queue
                await repo.disable_target(r.message.target, r.reason, now)

    async def _write(self, *steps: Step) -> None:
        backoff = Backoff()
        while True:
            try:
                async with self._sessions() as session, session.begin():
                    repo = DeliveryRepository(session)
                    for step in steps:
                        await step(repo)
                return
            except Exception as exc:
                if not retryable(exc):
                    raise
                log.warning("delivery_record_retry", error=repr(exc), retry_in_s=backoff.delay_s)
                await backoff.wait()

    async def drain(self) -> None:
        """Send until nothing is due now (tests on a manual clock; a hung target would block it)."""
        while True:
            started = await self.pump()
            if not self._tasks and started == 0:
                return
            await asyncio.gather(*list(self._tasks))

    async def recover(self) -> None:
        """At start (and every lease period): at-most-once sends a crash interrupted are
        dead-lettered once their lease has run out, never sent twice."""
        async with self._sessions() as session, session.begin():
            await self._recover(ClaimRepository(session), self._clock.now())

    async def _recover(self, claims: ClaimRepository, now: datetime) -> None:
        self._recovered_at = time.monotonic()
        count = await claims.dead_letter_interrupted(now)
        if count:
            log.warning("delivery_interrupted_sends_dead_lettered", count=count)

    async def _sleep_s(self) -> float:
        async with self._sessions() as session:
            next_due = await DeliveryRepository(session).next_due(self._busy_ids(), self._clock.now())
        if next_due is None:
            return self._poll_interval_s
        return min(self._poll_interval_s, max(0.0, (next_due - self._clock.now()).total_seconds()))

    async def run(self, stop: asyncio.Event) -> None:
        await self.recover()
        backoff = Backoff()
        while not stop.is_set():
            await asyncio.sleep(MIN_ROUND_S)
            self._wakeup.clear()
            try:
                await self.pump()
                sleep_s = await self._sleep_s()
                backoff.reset()
            except Exception as exc:
                if not retryable(exc):
                    raise
                log.warning("delivery_pump_retry", error=repr(exc), retry_in_s=backoff.delay_s)
                await backoff.wait()
                continue
            if sleep_s > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(first_of(stop, self._wakeup), sleep_s)
        await self._finish()

    async def _finish(self, timeout_s: float = 10.0) -> None:
        """Let sends in flight end and be recorded; what is cut off is resent after restart."""
        self._stopping = True
        if self._tasks:
            _, pending = await asyncio.wait(list(self._tasks), timeout=timeout_s)
            for task in pending:
                task.cancel()
        # Claimed but not sent (buffered): free for another instance now, not after the lease.
        with contextlib.suppress(Exception):  # the database may be down: then the lease runs out
            async with self._sessions() as session, session.begin():
                released = await ClaimRepository(session).release(self.owner)
            if released:
                log.info("delivery_claims_released", count=released)
