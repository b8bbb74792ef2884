"""Profile SQL: lock a batch's profiles (creating empty rows so new people lock too), save, list."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from services.router.profiles.profile import Profile
from services.router.tables import profiles
from shared.db.dialect import insert_ignoring_conflicts

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _profile(row: RowMapping) -> Profile:
    return Profile(
        key=row["profile_key"],
        lead_id=row["lead_id"],
        fields=dict(row["fields"]),
        signals=tuple((s, datetime.fromisoformat(at)) for s, at in row["signals"]),
        source=row["source"],
        first_seen=row["first_seen"],
        last_seen=row["last_seen"],
        submissions=row["submissions"],
        routed_at=row["routed_at"],
        outcome=row["outcome"],
        owner=row["owner"],
        team=row["team"],
        account=row["account"],
        score=row["score"],
    )


def _row(p: Profile) -> dict[str, Any]:
    return {
        "lead_id": p.lead_id,
        "fields": p.fields,
        "signals": [[s, at.isoformat()] for s, at in p.signals],
        "source": p.source,
        "first_seen": p.first_seen,
        "last_seen": p.last_seen,
        "submissions": p.submissions,
        "routed_at": p.routed_at,
        "outcome": p.outcome,
        "owner": p.owner,
        "team": p.team,
        "account": p.account,
        "score": p.score,
    }


class ProfileRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def lock(self, keys: Sequence[str]) -> dict[str, Profile]:
        """The profiles of these people, row-locked until commit; absent ones are not returned."""
        wanted = sorted(set(keys))
        if not wanted:
            return {}
        # An empty row (0 submissions) gives a person seen for the first time a row to lock, so two
        # instances never both create them.
        empty = {
            "lead_id": "",
            "fields": {},
            "signals": [],
            "source": "",
            "first_seen": _EPOCH,
            "last_seen": _EPOCH,
            "submissions": 0,
        }
        await self.session.execute(
            insert_ignoring_conflicts(self.session, profiles), [{"profile_key": k, **empty} for k in wanted]
        )
        rows = await self.session.execute(
            select(profiles)
            .where(profiles.c.profile_key.in_(wanted))
            .order_by(profiles.c.profile_key)
            .with_for_update()
        )
        return {r["profile_key"]: _profile(r) for r in rows.mappings() if r["submissions"] > 0}

    async def save(self, changed: Sequence[Profile]) -> None:
        if changed:
            await self.session.execute(
                update(profiles).where(profiles.c.profile_key == bindparam("k_key")),
                [{"k_key": p.key, **_row(p)} for p in changed],
            )

    async def seen_between(self, since: datetime, until: datetime) -> list[Profile]:
        rows = await self.session.execute(
            select(profiles)
            .where(profiles.c.submissions > 0, profiles.c.last_seen >= since, profiles.c.last_seen < until)
            .order_by(profiles.c.first_seen, profiles.c.profile_key)
        )
        return [_profile(r) for r in rows.mappings()]
