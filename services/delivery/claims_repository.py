"""Leased claims: several deliverers on one database never send the same due message twice.

A dispatcher claims a due message before sending it: `claimed_by` (its instance id) and
`lease_until`. A claimed message is not due for anyone else until the lease runs out; the
claimer renews the leases of what it holds while it works, and recording the attempt clears the
claim. So only a crashed (or stalled) instance's claims run out, and then another takes the
work over: a webhook is sent again with the same `webhook-id` (at least once), an at-most-once
message (Slack, email) that was mid-send is dead-lettered instead (never sent twice).

PostgreSQL: the due rows are picked with `FOR UPDATE SKIP LOCKED` inside the claiming UPDATE, so
two instances claiming at the same moment split the rows instead of waiting on each other.
SQLite has one writer at a time: the UPDATE takes the write lock before it reads, so claims are
serialized (as the router's SLA timer claims are, services/router/sla/repository.py).

Order per lead and target is kept across instances: a message is claimable only when no earlier
message of its lead for that target is still pending, claimed or not.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import ColumnElement, exists, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.delivery.repository import Message
from services.delivery.tables import messages

INTERRUPTED = (
    "interrupted mid-send (the deliverer stopped or crashed); not resent (a notification is never "
    "sent twice): replay it if it did not arrive"
)


def _unclaimed(now: datetime) -> ColumnElement[bool]:
    return or_(messages.c.lease_until.is_(None), messages.c.lease_until <= now)


class ClaimRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def claim(
        self,
        target: str,
        now: datetime,
        limit: int,
        *,
        owner: str,
        lease_until: datetime,
        busy: Collection[int] = (),
    ) -> list[Message]:
        """Up to `limit` due messages of one target, each the oldest unfinished one of its lead,
        claimed for `owner` until `lease_until`; oldest first."""
        earlier = messages.alias("earlier")
        blocked = exists().where(
            earlier.c.target == messages.c.target,
            earlier.c.lead_id == messages.c.lead_id,
            earlier.c.status == "pending",
            earlier.c.id < messages.c.id,
        )
        due = (
            select(messages.c.id)
            .where(
                messages.c.target == target,
                messages.c.status == "pending",
                messages.c.next_attempt_at <= now,
                _unclaimed(now),
                # Mid-send on an at-most-once target: never claimed again (dead-lettered below).
                messages.c.sending_since.is_(None),
                ~blocked,
            )
            .order_by(messages.c.id)
            .limit(limit)
        )
        if busy:  # ours, in flight (a test's manual clock may have run past their lease)
            due = due.where(messages.c.id.not_in(list(busy)))
        if self.session.get_bind().dialect.name == "postgresql":
            due = due.with_for_update(of=messages, skip_locked=True)
        stmt = (
            update(messages)
            .where(messages.c.id.in_(due.scalar_subquery()))
            .values(claimed_by=owner, lease_until=lease_until)
            .returning(*(messages.c[name] for name in Message.__dataclass_fields__))
        )
        rows = (await self.session.execute(stmt)).mappings()
        return sorted((Message.of(r) for r in rows), key=lambda m: m.id)

    async def renew(self, ids: Collection[int], owner: str, lease_until: datetime) -> None:
        """Extend the leases this instance still holds (a long send or a full lane keeps its work).
        A row being recorded right now (locked by this instance's own write) is skipped, not waited
        for: recording ends its claim anyway, and waiting could deadlock with that write."""
        if not ids:
            return
        held = (
            select(messages.c.id)
            .where(messages.c.id.in_(list(ids)), messages.c.claimed_by == owner)
            .order_by(messages.c.id)
        )
        if self.session.get_bind().dialect.name == "postgresql":
            held = held.with_for_update(of=messages, skip_locked=True)
        await self.session.execute(
            update(messages).where(messages.c.id.in_(held.scalar_subquery())).values(lease_until=lease_until)
        )

    async def release(self, owner: str) -> int:
        """At a clean stop: what this instance claimed and did not send is free for others at once."""
        result = await self.session.execute(
            update(messages)
            .where(
                messages.c.claimed_by == owner,
                messages.c.status == "pending",
                messages.c.sending_since.is_(None),
            )
            .values(claimed_by=None, lease_until=None)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

    async def dead_letter_interrupted(self, now: datetime) -> int:
        """At-most-once sends cut off by a crash (their lease ran out, or was never taken):
        dead-lettered, not sent a second time. A live instance's sends are left alone."""
        result = await self.session.execute(
            update(messages)
            .where(
                messages.c.status == "pending",
                messages.c.sending_since.is_not(None),
                _unclaimed(now),
            )
            .values(
                status="dead",
                last_error=INTERRUPTED,
                updated_at=now,
                sending_since=None,
                claimed_by=None,
                lease_until=None,
            )
        )
        return int(result.rowcount)  # type: ignore[attr-defined]
