"""The write side's SQL: the fact log, the append-only transition log, and the per-lead fold.

Kept apart from the report queries so the live consumer, `import` and `replay` share one path:
store facts (duplicates ignored by event id), then refold the touched leads from all their facts.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.metrics.domain.facts import Fact
from services.metrics.domain.fold import LeadState, fold
from services.metrics.projection.delays import delay_minutes
from services.metrics.tables import events, inbox, lead_stages, leads, transitions
from shared.db.dialect import insert_ignoring_conflicts
from shared.db.inbox import claim_event

# Bound parameters per statement stay well under SQLite's and asyncpg's limits.
CHUNK = 500


def _chunks(items: Sequence[str], size: int = CHUNK) -> Iterable[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class ProjectionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def claim(self, event_id: str) -> bool:
        return await claim_event(self.session, inbox, event_id)

    async def claim_many(self, event_ids: Sequence[str]) -> set[str]:
        """Claim these event ids in the inbox; returns those not processed before.

        One INSERT … ON CONFLICT DO NOTHING RETURNING per chunk: what comes back is exactly what
        this transaction inserted, and a concurrent claim of the same id waits for ours (PostgreSQL)."""
        now = datetime.now(UTC)
        claimed: set[str] = set()
        for chunk in _chunks(list(dict.fromkeys(event_ids))):
            stmt = (
                insert_ignoring_conflicts(self.session, inbox)
                .values([{"event_id": event_id, "processed_at": now} for event_id in chunk])
                .returning(inbox.c.event_id)
            )
            claimed |= {row[0] for row in await self.session.execute(stmt)}
        return claimed

    async def lock(self, lead_ids: Sequence[str]) -> None:
        """Hold the leads' rows (created if new) so instances folding the same lead take turns."""
        now = datetime.now(UTC)
        for chunk in _chunks(sorted(set(lead_ids))):  # sorted: a fixed lock order, no deadlock
            await self.session.execute(
                insert_ignoring_conflicts(self.session, leads),
                [{"lead_id": lead_id, "updated_at": now} for lead_id in chunk],
            )
            await self.session.execute(
                select(leads.c.lead_id).where(leads.c.lead_id.in_(chunk)).with_for_update()
            )

    async def record(self, facts: Sequence[Fact]) -> list[Fact]:
        """Store facts and their transitions; returns those not stored before (by event id).

        INSERT … ON CONFLICT DO NOTHING RETURNING, not a SELECT of the known ids first: the conflict
        check always goes through the primary key, whereas a prepared `IN (…)` lookup on PostgreSQL
        fell back to a generic plan that scanned the whole log while the table was young and not
        yet analysed (an import of a year of history: ~0.5 s a chunk, growing with the log)."""
        if not facts:
            return []
        unique = list({f.event_id: f for f in facts}.values())
        now = datetime.now(UTC)
        rows = [
            {
                "event_id": f.event_id,
                "lead_id": f.lead_id,
                "type": f.type,
                "occurred_at": f.occurred_at,
                "recorded_at": now,
                "body": f.body(),
            }
            for f in unique
        ]
        # An executemany with RETURNING: SQLAlchemy batches it into multi-row INSERTs itself
        # ("insertmanyvalues"); a conflicting row is skipped and returns nothing.
        stmt = insert_ignoring_conflicts(self.session, events).returning(events.c.event_id)
        stored = set((await self.session.execute(stmt, rows)).scalars())
        new = [f for f in unique if f.event_id in stored]
        if not new:
            return []
        moves = [
            {
                "event_id": f.event_id,
                "lead_id": f.lead_id,
                "stage": stage,
                "event_type": f.type,
                "occurred_at": f.occurred_at,
                "recorded_at": now,
            }
            for f in new
            for stage in f.stages
        ]
        if moves:
            await self.session.execute(insert_ignoring_conflicts(self.session, transitions), moves)
        return new

    async def facts_of(self, lead_ids: Sequence[str]) -> dict[str, list[Fact]]:
        found: dict[str, list[Fact]] = {lead_id: [] for lead_id in lead_ids}
        for chunk in _chunks(list(lead_ids)):
            stmt = select(events).where(events.c.lead_id.in_(chunk))
            for row in (await self.session.execute(stmt)).mappings():
                found[row["lead_id"]].append(
                    Fact.from_row(
                        row["event_id"], row["lead_id"], row["type"], row["occurred_at"], row["body"]
                    )
                )
        return found

    async def refold(self, lead_ids: Sequence[str]) -> list[LeadState]:
        """Recompute the leads' rows and stage rows from all their facts (call under `lock`)."""
        states = [fold(lead_id, facts) for lead_id, facts in (await self.facts_of(lead_ids)).items()]
        await self.write(states)
        return states

    async def write(self, states: Sequence[LeadState]) -> None:
        """Replace the read-model rows of these leads with their folded state."""
        if not states:
            return
        now = datetime.now(UTC)
        ids = [s.lead_id for s in states]
        for chunk in _chunks(ids):
            await self.session.execute(delete(lead_stages).where(lead_stages.c.lead_id.in_(chunk)))
            await self.session.execute(delete(leads).where(leads.c.lead_id.in_(chunk)))
        rows = [
            s.columns() | delay_minutes(s.captured_at, s.reached.get("assigned"), s.first_touch_at)
            for s in states
        ]
        await self.session.execute(insert(leads), [row | {"updated_at": now} for row in rows])
        stage_rows = [
            {
                "lead_id": s.lead_id,
                "stage": t.stage,
                "first_at": t.first_at,
                "last_at": t.last_at,
                "entries": t.entries,
                "seconds": t.seconds,
            }
            for s in states
            for t in s.stages.values()
        ]
        if stage_rows:
            await self.session.execute(insert(lead_stages), stage_rows)

    async def lead_ids(self, after: str | None, limit: int) -> list[str]:
        """Every lead with facts, in id order, a page at a time (for replay)."""
        stmt = select(events.c.lead_id).distinct().order_by(events.c.lead_id).limit(limit)
        if after is not None:
            stmt = stmt.where(events.c.lead_id > after)
        return [r[0] for r in await self.session.execute(stmt)]

    async def captures(self, lead_ids: Sequence[str]) -> dict[str, datetime]:
        """When each of these leads was captured, for those already stored with a capture."""
        found: dict[str, datetime] = {}
        for chunk in _chunks(list(lead_ids)):
            stmt = select(leads.c.lead_id, leads.c.captured_at).where(
                leads.c.lead_id.in_(chunk), leads.c.captured_at.is_not(None)
            )
            found |= {lead_id: at for lead_id, at in (await self.session.execute(stmt)).all()}
        return found

    async def clear_read_model(self) -> None:
        """Replay starts from nothing but the log: the per-lead rows are derived, so they go."""
        await self.session.execute(delete(lead_stages))
        await self.session.execute(delete(leads))
