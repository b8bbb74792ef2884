"""All ingest SQL: remembering accepted deliveries so a retry gets the original ids."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.ingest.tables import deliveries
from shared.db.dialect import insert_ignoring_conflicts


class DeliveryRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def find(self, source: str, key: str) -> tuple[str, str] | None:
        row = (
            await self.session.execute(
                select(deliveries.c.event_id, deliveries.c.lead_id).where(
                    deliveries.c.source == source, deliveries.c.delivery_key == key
                )
            )
        ).one_or_none()
        return (row.event_id, row.lead_id) if row else None

    async def remember(self, source: str, key: str, event_id: str, lead_id: str) -> None:
        await self.session.execute(
            insert_ignoring_conflicts(self.session, deliveries).values(
                source=source,
                delivery_key=key,
                event_id=event_id,
                lead_id=lead_id,
                created_at=datetime.now(UTC),
            )
        )
