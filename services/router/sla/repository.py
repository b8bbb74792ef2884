"""All SLA SQL: open clocks, their timers, and the claim of due timers.

The claim is the exactly-once point. PostgreSQL: `SELECT ... FOR UPDATE SKIP LOCKED`, so instances
split the due rows and a row stays locked until its firing commits (as `fired`). SQLite has one
writer at a time: the claim is an UPDATE (which takes the write lock before it reads) tagging the
due rows with this round's token, then a read of that token. Either way the rows are fired in the
claiming transaction, so a crash rolls the claim back and the timer stays pending.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession

from services.router.sla.policy import Timer
from services.router.tables import decisions, sla_clocks, sla_timers


@dataclass(frozen=True)
class ClockRow:
    clock_id: str
    lead_id: str
    policy: str
    target: str
    team: str
    rep_id: str | None
    source: str
    captured_at: datetime
    started_at: datetime
    breach_at: datetime | None
    status: str


@dataclass(frozen=True)
class DueTimer:
    id: int
    timer_id: str
    clock_id: str
    lead_id: str
    key: str
    kind: str
    action: str | None
    queue: str | None
    step: int | None
    due_at: datetime


def _clock(row: Row[tuple[object, ...]]) -> ClockRow:
    m = row._mapping
    return ClockRow(**{f: m[f] for f in ClockRow.__dataclass_fields__})


def _step(timer: Timer) -> int | None:
    # Ladder keys are "escalation.<index>.<action>" (see policy.schedule).
    return int(timer.key.split(".")[1]) if timer.kind == "escalation" else None


class SlaRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def open_clock(self, clock: ClockRow, timers: Sequence[tuple[str, Timer]]) -> None:
        """Insert the clock and its (timer_id, Timer) rows, all pending."""
        await self.session.execute(insert(sla_clocks).values(**clock.__dict__, pauses=[], stopped_at=None))
        if timers:
            await self.session.execute(
                insert(sla_timers),
                [
                    {
                        "timer_id": timer_id,
                        "clock_id": clock.clock_id,
                        "lead_id": clock.lead_id,
                        "key": t.key,
                        "kind": t.kind,
                        "action": t.action,
                        "queue": t.queue,
                        "step": _step(t),
                        "due_at": t.at,
                        "state": "pending",
                    }
                    for timer_id, t in timers
                ],
            )

    async def open_clocks(self, lead_id: str) -> list[ClockRow]:
        """The lead's open clocks. Their pending timers are locked first (the timer loop's lock
        order: timers, then clock), so a stop waits for a firing in progress instead of deadlocking."""
        ids = select(sla_clocks.c.clock_id).where(
            sla_clocks.c.lead_id == lead_id, sla_clocks.c.status == "open"
        )
        await self.session.execute(
            select(sla_timers.c.id)
            .where(sla_timers.c.clock_id.in_(ids), sla_timers.c.state == "pending")
            .with_for_update()
        )
        rows = await self.session.execute(
            select(sla_clocks)
            .where(sla_clocks.c.lead_id == lead_id, sla_clocks.c.status == "open")
            .order_by(sla_clocks.c.started_at, sla_clocks.c.policy)
            .with_for_update()
        )
        return [_clock(r) for r in rows]

    async def clock(self, clock_id: str) -> ClockRow | None:
        row = (
            await self.session.execute(
                select(sla_clocks).where(sla_clocks.c.clock_id == clock_id).with_for_update()
            )
        ).first()
        return _clock(row) if row is not None else None

    async def stop_clock(self, clock_id: str, status: str, stopped_at: datetime) -> None:
        await self.session.execute(
            update(sla_clocks)
            .where(sla_clocks.c.clock_id == clock_id)
            .values(status=status, stopped_at=stopped_at)
        )
        await self.session.execute(
            update(sla_timers)
            .where(sla_timers.c.clock_id == clock_id, sla_timers.c.state == "pending")
            .values(state="cancelled")
        )

    async def set_owner(self, clock_id: str, rep_id: str | None) -> None:
        await self.session.execute(
            update(sla_clocks).where(sla_clocks.c.clock_id == clock_id).values(rep_id=rep_id)
        )

    async def claim_due(self, now: datetime, limit: int, token: str) -> list[DueTimer]:
        """Lock (PostgreSQL) or tag (SQLite) up to `limit` pending timers due at `now`, oldest first."""
        due = (
            select(sla_timers.c.id)
            .where(sla_timers.c.state == "pending", sla_timers.c.due_at <= now)
            .order_by(sla_timers.c.due_at, sla_timers.c.id)
            .limit(limit)
        )
        columns = [sla_timers.c[f] for f in DueTimer.__dataclass_fields__]
        if self.session.get_bind().dialect.name == "postgresql":
            # Rows another instance holds are skipped, not waited on; ours stay locked until commit.
            stmt = (
                select(*columns)
                .where(sla_timers.c.state == "pending", sla_timers.c.due_at <= now)
                .order_by(sla_timers.c.due_at, sla_timers.c.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        else:
            await self.session.execute(
                update(sla_timers).where(sla_timers.c.id.in_(due.scalar_subquery())).values(claimed_by=token)
            )
            stmt = (
                select(*columns)
                .where(sla_timers.c.claimed_by == token, sla_timers.c.state == "pending")
                .order_by(sla_timers.c.due_at, sla_timers.c.id)
            )
        rows = await self.session.execute(stmt)
        return [DueTimer(**dict(r._mapping)) for r in rows]

    async def mark_fired(self, ids: Sequence[int], fired_at: datetime) -> None:
        if ids:
            await self.session.execute(
                update(sla_timers).where(sla_timers.c.id.in_(ids)).values(state="fired", fired_at=fired_at)
            )

    async def mark_cancelled(self, ids: Sequence[int]) -> None:
        if ids:
            await self.session.execute(
                update(sla_timers).where(sla_timers.c.id.in_(ids)).values(state="cancelled")
            )

    async def next_due(self) -> datetime | None:
        # ORDER BY + LIMIT rather than MIN(): the column type (aware UTC) applies on SQLite too.
        stmt = (
            select(sla_timers.c.due_at)
            .where(sla_timers.c.state == "pending")
            .order_by(sla_timers.c.due_at)
            .limit(1)
        )
        value: datetime | None = (await self.session.execute(stmt)).scalar()
        return value

    async def lead_known(self, lead_id: str) -> bool:
        """Has the router decided anything about this lead (it may have no clock)?"""
        stmt = select(decisions.c.id).where(decisions.c.lead_id == lead_id).limit(1)
        return (await self.session.execute(stmt)).first() is not None
