"""What an operator does with deliveries, shared by the CLI and the HTTP API: list, show, replay,
purge dead letters."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.delivery.repository import DeliveryRepository, Message
from services.delivery.retention_repository import RetentionRepository


class DeliverySummary(BaseModel):
    id: int
    message_id: str
    webhook_id: str
    target: str
    lead_id: str
    event_type: str
    status: str
    attempts: int
    next_attempt_at: datetime | None
    created_at: datetime
    last_status: int | None
    last_error: str | None

    @classmethod
    def of(cls, m: Message) -> DeliverySummary:
        return cls(
            id=m.id,
            message_id=m.message_id,
            webhook_id=m.event_id,
            target=m.target,
            lead_id=m.lead_id,
            event_type=m.event_type,
            status=m.status,
            attempts=m.attempts,
            next_attempt_at=m.next_attempt_at if m.status == "pending" else None,
            created_at=m.created_at,
            last_status=m.last_status,
            last_error=m.last_error,
        )


class Attempt(BaseModel):
    attempt: int
    started_at: datetime
    duration_ms: float
    status_code: int | None
    outcome: str
    reason: str


class DeliveryDetail(DeliverySummary):
    attempt_log: list[Attempt]


async def list_deliveries(
    sessions: async_sessionmaker[AsyncSession],
    *,
    status: str | None = "dead",
    target: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[DeliverySummary]:
    async with sessions() as session:
        rows = await DeliveryRepository(session).list_messages(
            status=status, target=target, limit=limit, offset=offset
        )
    return [DeliverySummary.of(m) for m in rows]


async def show_delivery(sessions: async_sessionmaker[AsyncSession], message_pk: int) -> DeliveryDetail | None:
    async with sessions() as session:
        repo = DeliveryRepository(session)
        message = await repo.get(message_pk)
        if message is None:
            return None
        log: list[dict[str, Any]] = await repo.attempts_of(message_pk)
    summary = DeliverySummary.of(message).model_dump()
    return DeliveryDetail(
        **summary, attempt_log=[Attempt.model_validate(a, from_attributes=False) for a in log]
    )


async def replay(
    sessions: async_sessionmaker[AsyncSession],
    now: datetime,
    *,
    ids: Collection[int] | None = None,
    target: str | None = None,
) -> int:
    """Dead deliveries back in the queue, due now, with a fresh schedule. How many."""
    async with sessions() as session, session.begin():
        return await DeliveryRepository(session).replay(ids, target, now)


async def purge_dead(
    sessions: async_sessionmaker[AsyncSession],
    *,
    ids: Collection[int] | None = None,
    target: str | None = None,
) -> int:
    """Dead letters deleted with their attempts (the operator decided they are not wanted). How many."""
    async with sessions() as session, session.begin():
        return await RetentionRepository(session).purge_dead(ids, target)
