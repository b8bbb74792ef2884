"""Erasure SQL: a lead's contact row, and the free text of its facts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.metrics.tables import contacts, events


class ErasureRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def forget_contact(self, lead_id: str) -> dict[str, Any] | None:
        """Delete the lead's contact row; what it held (to scrub copies elsewhere), None if none."""
        row = (
            (await self.session.execute(select(contacts).where(contacts.c.lead_id == lead_id)))
            .mappings()
            .first()
        )
        if row is None:
            return None
        await self.session.execute(delete(contacts).where(contacts.c.lead_id == lead_id))
        return dict(row)

    async def rewrite_fact_details(self, lead_id: str, scrub: Callable[[Any], Any]) -> int:
        """Scrub the free-text part of the lead's facts (`detail`: reasons, rules); the dimensions and
        times that reports count by are untouched, so every figure stays what it was."""
        c = events.c
        rows = (await self.session.execute(select(c.event_id, c.body).where(c.lead_id == lead_id))).all()
        changed = []
        for r in rows:
            body = dict(r.body or {})
            if "detail" in body:
                detail = scrub(body["detail"])
                if detail != body["detail"]:
                    changed.append({"row_id": r.event_id, "new_body": {**body, "detail": detail}})
        if changed:
            await self.session.execute(
                update(events).where(c.event_id == bindparam("row_id")).values(body=bindparam("new_body")),
                changed,
            )
        return len(changed)
