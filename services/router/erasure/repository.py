"""Erasure SQL: what the router holds about a person, found from one of their lead ids, rewritten.

A person's profile is keyed by their identity (`email:<normalised>`), and names only the first
lead they came in with; each decision record names its profile key. So the person is found from a
lead id through both, and their other leads through the decision records naming the same key.
Erasures are rare: the text search over decision records is a scan, and that is fine.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any

from sqlalchemy import Text, bindparam, cast, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.router.tables import decisions, outbox, profiles


class ErasureRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def profile_keys(self, lead_id: str) -> set[str]:
        """The identity keys of the person behind this lead (their profile, and what decisions say)."""
        keys = set(
            (await self.session.execute(select(profiles.c.profile_key).where(profiles.c.lead_id == lead_id)))
            .scalars()
            .all()
        )
        details = await self.session.execute(select(decisions.c.detail).where(decisions.c.lead_id == lead_id))
        for detail in details.scalars():
            key = ((detail or {}).get("profile") or {}).get("key") if isinstance(detail, dict) else None
            if isinstance(key, str) and key:
                keys.add(key)
        return keys

    async def lock_profiles(self, keys: Collection[str]) -> list[dict[str, Any]]:
        """The merged fields of these profiles, row-locked (a capture of the same person waits)."""
        if not keys:
            return []
        rows = await self.session.execute(
            select(profiles.c.fields).where(profiles.c.profile_key.in_(sorted(keys))).with_for_update()
        )
        return [dict(f or {}) for f in rows.scalars()]

    async def lead_ids_of(self, keys: Collection[str]) -> set[str]:
        """Every lead whose decision records name one of these identity keys, and the profiles' own."""
        if not keys:
            return set()
        found = set(
            (
                await self.session.execute(
                    select(profiles.c.lead_id).where(profiles.c.profile_key.in_(list(keys)))
                )
            )
            .scalars()
            .all()
        )
        text = cast(decisions.c.detail, Text)
        matches = or_(*(text.contains(f'"{key}"', autoescape=True) for key in keys))
        found |= set((await self.session.execute(select(decisions.c.lead_id).where(matches))).scalars().all())
        return {lead_id for lead_id in found if lead_id}

    async def rewrite_decisions(self, lead_ids: Collection[str], scrub: Callable[[Any], Any]) -> int:
        c = decisions.c
        rows = (
            await self.session.execute(select(c.id, c.reasons, c.detail).where(c.lead_id.in_(list(lead_ids))))
        ).all()
        changed = [
            {"row_id": r.id, "new_reasons": scrub(r.reasons), "new_detail": scrub(r.detail)} for r in rows
        ]
        if changed:
            await self.session.execute(
                update(decisions)
                .where(c.id == bindparam("row_id"))
                .values(reasons=bindparam("new_reasons"), detail=bindparam("new_detail")),
                changed,
            )
        return len(changed)

    async def rewrite_outbox(self, lead_ids: Collection[str], rewrite: Callable[[bytes], bytes]) -> int:
        """The lead's events waiting to go out (they leave erased) and those kept for a republish."""
        c = outbox.c
        rows = (await self.session.execute(select(c.id, c.value).where(c.key.in_(list(lead_ids))))).all()
        changed = [{"row_id": r.id, "new_value": rewrite(r.value)} for r in rows]
        if changed:
            await self.session.execute(
                update(outbox).where(c.id == bindparam("row_id")).values(value=bindparam("new_value")),
                changed,
            )
        return len(changed)

    async def forget_profiles(self, keys: Collection[str]) -> int:
        if not keys:
            return 0
        result = await self.session.execute(delete(profiles).where(profiles.c.profile_key.in_(list(keys))))
        return int(getattr(result, "rowcount", 0) or 0)
