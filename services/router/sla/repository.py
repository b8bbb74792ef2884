"""All SLA SQL: open clocks, their timers, and the claim of due timers.

The claim is the exactly-once point. PostgreSQL: `SELECT ... FOR UPDATE SKIP LOCKED`, so instances
split the due rows and a row stays locked until its firing commits (as `fired`). SQLite has one
writer at a time: the claim is an UPDATE (which takes the write lock before it reads) tagging the
due rows with this round's token and RETURNING them. Either way the rows are fired in the
claiming transaction, so a crash rolls the claim back and the timer stays pending.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession

from services.router.sla.model import ClockRow, DueTimer
from services.router.sla.policy import Timer
from services.router.tables import decisions, sla_clocks, sla_timers

__all__ = ["ClockRow", "DueTimer", "SlaRepository"]


def _clock(row: Row[tuple[object, ...]]) -> ClockRow:
    m = row._mapping
    stored = m["pauses"] or []
    pauses = tuple((_instant(p[0]), _instant(p[1]) if p[1] else None) for p in stored)
    reasons = tuple(str(p[2]) if len(p) > 2 else "" for p in stored)
    fields = {f: m[f] for f in ClockRow.__dataclass_fields__ if f not in ("pauses", "pause_reasons")}
    return ClockRow(**fields, pauses=pauses, pause_reasons=reasons)


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _stored_pauses(clock: ClockRow) -> list[list[str | None]]:
    """`[[from, to | null, reason], ...]`, ISO instants (the JSON column)."""
    return [
        [begin.isoformat(), end.isoformat() if end else None, reason]
        for (begin, end), reason in zip(clock.pauses, clock.pause_reasons, strict=True)
    ]


def _step(timer: Timer) -> int | None:
    # Ladder keys are "escalation.<index>.<action>" (see policy.schedule).
    return int(timer.key.split(".")[1]) if timer.kind == "escalation" else None


class SlaRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def open_clock(self, clock: ClockRow, timers: Sequence[tuple[str, Timer]]) -> None:
        """Insert the clock and its (timer_id, Timer) rows, all pending."""
        values = {f: v for f, v in clock.__dict__.items() if f != "pause_reasons"}
        values["pauses"] = _stored_pauses(clock)
        await self.session.execute(insert(sla_clocks).values(**values, stopped_at=None))
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
            .where(sla_timers.c.clock_id == clock_id, sla_timers.c.state.in_(("pending", "paused")))
            .values(state="cancelled")
        )

    async def clocks(self, clock_ids: Sequence[str]) -> dict[str, ClockRow]:
        """Row-lock and read a page's clocks in id order (two loops never lock them crosswise)."""
        if not clock_ids:
            return {}
        rows = await self.session.execute(
            select(sla_clocks)
            .where(sla_clocks.c.clock_id.in_(sorted(set(clock_ids))))
            .order_by(sla_clocks.c.clock_id)
            .with_for_update()
        )
        return {c.clock_id: c for c in map(_clock, rows)}

    async def set_owner(self, clock_id: str, rep_id: str | None) -> None:
        await self.set_owners({clock_id: rep_id})

    async def set_owners(self, owners: Mapping[str, str | None]) -> None:
        if owners:
            await self.session.execute(
                update(sla_clocks).where(sla_clocks.c.clock_id == bindparam("k_clock")),
                [{"k_clock": clock_id, "rep_id": rep_id} for clock_id, rep_id in owners.items()],
            )

    async def save_pauses(self, clock: ClockRow) -> None:
        """Store the clock's pauses (with their reasons) and its breach instant as now known."""
        await self.session.execute(
            update(sla_clocks)
            .where(sla_clocks.c.clock_id == clock.clock_id)
            .values(pauses=_stored_pauses(clock), breach_at=clock.breach_at)
        )

    async def hold_timers(self, clock_id: str) -> None:
        """A pause: the clock's pending timers wait, unclaimable, until the resume reschedules them."""
        await self.session.execute(
            update(sla_timers)
            .where(sla_timers.c.clock_id == clock_id, sla_timers.c.state == "pending")
            .values(state="paused")
        )

    async def reschedule(self, clock_id: str, due: Mapping[str, datetime]) -> set[str]:
        """A resume: held timers become pending again at their moved instants (key -> due_at).

        The keys moved: those that fired before the pause are not held and stay fired."""
        held = set(
            (
                await self.session.execute(
                    select(sla_timers.c.key).where(
                        sla_timers.c.clock_id == clock_id, sla_timers.c.state == "paused"
                    )
                )
            ).scalars()
        )
        moved = {key: at for key, at in due.items() if key in held}
        moves = [{"k_key": key, "due_at": at} for key, at in moved.items()]
        if moves:
            await self.session.execute(
                update(sla_timers)
                .where(
                    sla_timers.c.clock_id == clock_id,
                    sla_timers.c.key == bindparam("k_key"),
                    sla_timers.c.state == "paused",
                )
                .values(state="pending", claimed_by=None),
                moves,
            )
        return set(moved)

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
            rows = await self.session.execute(
                select(*columns)
                .where(sla_timers.c.state == "pending", sla_timers.c.due_at <= now)
                .order_by(sla_timers.c.due_at, sla_timers.c.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        else:
            # The UPDATE takes the write lock before it reads, and RETURNING hands back exactly the
            # rows it tagged: no second read by token (claimed_by has no index: a scan of every
            # pending row, 30 ms at 100k open timers).
            rows = await self.session.execute(
                update(sla_timers)
                .where(sla_timers.c.id.in_(due.scalar_subquery()))
                .values(claimed_by=token)
                .returning(*columns)
            )
        claimed = [DueTimer(**dict(r._mapping)) for r in rows]
        claimed.sort(key=lambda t: (t.due_at, t.id))  # RETURNING promises no order
        return claimed

    async def mark_fired(self, ids: Sequence[int], fired_at: datetime) -> None:
        if ids:
            await self.session.execute(
                update(sla_timers).where(sla_timers.c.id.in_(ids)).values(state="fired", fired_at=fired_at)
            )

    async def mark_held(self, ids: Sequence[int]) -> None:
        if ids:
            await self.session.execute(
                update(sla_timers).where(sla_timers.c.id.in_(ids)).values(state="paused", claimed_by=None)
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
