"""All of the deliverer's SQL: the message queue, attempts, disabled targets, the lead cache."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, bindparam, func, insert, or_, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from services.delivery.tables import attempts, leads, messages, targets
from shared.db.dialect import insert_ignoring_conflicts


@dataclass(frozen=True)
class NewMessage:
    message_id: str
    event_id: str
    target: str
    lead_id: str
    event_type: str
    body: bytes
    due_at: datetime
    status: str = "pending"
    last_error: str | None = None


@dataclass(frozen=True)
class Message:
    id: int
    message_id: str
    event_id: str
    target: str
    lead_id: str
    event_type: str
    body: bytes
    status: str
    tries: int
    attempts: int
    next_attempt_at: datetime
    created_at: datetime
    last_status: int | None
    last_error: str | None
    sending_since: datetime | None

    @classmethod
    def of(cls, row: RowMapping) -> Message:
        return cls(**{name: row[name] for name in cls.__dataclass_fields__})


@dataclass(frozen=True)
class AttemptResult:
    message: Message
    started_at: datetime
    duration_ms: float
    status_code: int | None
    outcome: str  # delivered | retry | dead | gone
    reason: str
    next_attempt_at: datetime | None


class DeliveryRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # --- queue -------------------------------------------------------------------------------
    async def enqueue(self, new: Sequence[NewMessage], now: datetime) -> None:
        if not new:
            return
        rows = [
            {
                "message_id": m.message_id,
                "event_id": m.event_id,
                "target": m.target,
                "lead_id": m.lead_id,
                "event_type": m.event_type,
                "body": m.body,
                "status": m.status,
                "next_attempt_at": m.due_at,
                "created_at": now,
                "updated_at": now,
                "last_error": m.last_error,
            }
            for m in new
        ]
        # A redelivered event makes the same message ids: nothing new (never sent twice).
        await self.session.execute(insert_ignoring_conflicts(self.session, messages), rows)

    async def due_targets(self, now: datetime) -> list[str]:
        stmt = (
            select(messages.c.target)
            .where(messages.c.status == "pending", messages.c.next_attempt_at <= now)
            .distinct()
        )
        return list((await self.session.execute(stmt)).scalars())

    async def next_due(self, busy: Collection[int], now: datetime) -> datetime | None:
        """When the next unclaimed pending message falls due (claims: claims_repository.py)."""
        stmt = select(func.min(messages.c.next_attempt_at)).where(
            messages.c.status == "pending",
            or_(messages.c.lease_until.is_(None), messages.c.lease_until <= now),
        )
        if busy:
            stmt = stmt.where(messages.c.id.not_in(list(busy)))
        value: datetime | None = (await self.session.execute(stmt)).scalar_one()
        if value is not None and value.tzinfo is None:  # SQLite's MIN() bypasses the column type
            value = value.replace(tzinfo=UTC)
        return value

    async def mark_sending(self, message_id: int, now: datetime) -> None:
        await self.session.execute(
            update(messages).where(messages.c.id == message_id).values(sending_since=now)
        )

    async def record(self, results: Sequence[AttemptResult], now: datetime) -> None:
        """Attempts that ended together: their messages' new state and their attempt rows, as two
        executemany statements (the same SQL for every row; one round trip each, not two per row)."""
        if not results:
            return
        # In id order: every multi-row write to the queue locks rows in the same order (no deadlock).
        results = sorted(results, key=lambda r: r.message.id)
        status = {"delivered": "delivered", "retry": "pending"}
        await self.session.execute(
            update(messages)
            .where(messages.c.id == bindparam("pk"))
            .values(
                status=bindparam("new_status"),
                tries=messages.c.tries + 1,
                attempts=messages.c.attempts + 1,
                next_attempt_at=bindparam("next_at"),
                last_status=bindparam("status_code"),
                last_error=bindparam("error"),
                updated_at=now,
                sending_since=None,
                claimed_by=None,  # the claim ends with the attempt
                lease_until=None,
            ),
            [
                {
                    "pk": r.message.id,
                    "new_status": status.get(r.outcome, "dead"),
                    "next_at": r.next_attempt_at or r.message.next_attempt_at,
                    "status_code": r.status_code,
                    "error": None if r.outcome == "delivered" else r.reason[:2000],
                }
                for r in results
            ],
        )
        await self.session.execute(
            insert(attempts),
            [
                {
                    "message_pk": r.message.id,
                    "attempt": r.message.attempts + 1,
                    "started_at": r.started_at,
                    "duration_ms": r.duration_ms,
                    "status_code": r.status_code,
                    "outcome": r.outcome,
                    "reason": r.reason[:2000],
                }
                for r in results
            ],
        )

    # --- targets -----------------------------------------------------------------------------
    async def disabled_targets(self) -> set[str]:
        stmt = select(targets.c.target).where(targets.c.disabled_at.is_not(None))
        return set((await self.session.execute(stmt)).scalars())

    async def disable_target(self, target: str, reason: str, now: datetime) -> None:
        await self.session.execute(insert_ignoring_conflicts(self.session, targets).values(target=target))
        await self.session.execute(
            update(targets).where(targets.c.target == target).values(disabled_at=now, disabled_reason=reason)
        )
        await self.dead_letter_target(target, f"target disabled: {reason}", now)

    async def dead_letter_target(self, target: str, reason: str, now: datetime) -> None:
        await self.session.execute(
            update(messages)
            .where(messages.c.target == target, messages.c.status == "pending")
            .values(status="dead", last_error=reason[:2000], updated_at=now)
        )

    async def enable_target(self, target: str) -> bool:
        result = await self.session.execute(
            update(targets)
            .where(targets.c.target == target, targets.c.disabled_at.is_not(None))
            .values(disabled_at=None, disabled_reason=None)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    # --- operators ---------------------------------------------------------------------------
    async def list_messages(
        self, *, status: str | None, target: str | None, limit: int, offset: int = 0
    ) -> list[Message]:
        stmt = select(messages).order_by(messages.c.id.desc()).limit(limit).offset(offset)
        if status:
            stmt = stmt.where(messages.c.status == status)
        if target:
            stmt = stmt.where(messages.c.target == target)
        return [Message.of(r) for r in (await self.session.execute(stmt)).mappings()]

    async def get(self, message_pk: int) -> Message | None:
        row = (await self.session.execute(select(messages).where(messages.c.id == message_pk))).mappings()
        first = row.first()
        return None if first is None else Message.of(first)

    async def attempts_of(self, message_pk: int) -> list[dict[str, Any]]:
        stmt = select(attempts).where(attempts.c.message_pk == message_pk).order_by(attempts.c.attempt)
        return [dict(r) for r in (await self.session.execute(stmt)).mappings()]

    async def replay(self, ids: Collection[int] | None, target: str | None, now: datetime) -> int:
        """Dead messages (these ids, or all, optionally of one target) back to pending, due now,
        with a fresh schedule; their targets are enabled again (replaying is the operator's word)."""
        conditions = [messages.c.status == "dead"]
        if ids is not None:
            conditions.append(messages.c.id.in_(list(ids)))
        if target:
            conditions.append(messages.c.target == target)
        where = and_(*conditions)
        names = set((await self.session.execute(select(messages.c.target).where(where).distinct())).scalars())
        for name in names:
            await self.enable_target(name)
        result = await self.session.execute(
            update(messages)
            .where(where)
            .values(
                status="pending",
                tries=0,
                next_attempt_at=now,
                updated_at=now,
                sending_since=None,
                claimed_by=None,
                lease_until=None,
            )
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

    async def counts(self) -> dict[str, int]:
        stmt = select(messages.c.status, func.count()).group_by(messages.c.status)
        return {status: int(n) for status, n in (await self.session.execute(stmt)).all()}

    # --- lead cache (for notifications) ------------------------------------------------------
    async def remember_lead(self, lead_id: str, values: dict[str, Any], now: datetime) -> None:
        await self.session.execute(
            insert_ignoring_conflicts(self.session, leads).values(lead_id=lead_id, updated_at=now)
        )
        await self.session.execute(
            update(leads).where(leads.c.lead_id == lead_id).values(**values, updated_at=now)
        )

    async def lead(self, lead_id: str) -> dict[str, Any] | None:
        row = (await self.session.execute(select(leads).where(leads.c.lead_id == lead_id))).mappings().first()
        return None if row is None else dict(row)
