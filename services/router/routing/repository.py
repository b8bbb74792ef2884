"""Routing state SQL: the team's rotation row (the lock every instance takes), rep counters, owners.

`load` row-locks the rotation rows of the teams a batch needs (sorted, so instances never
deadlock) and reads their reps' counters; `save` writes back only what changed. Everything that
assigns to a team's reps holds that team's lock, so counters read under it are exact.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.router.routing.model import Team
from services.router.routing.state import RepCounters, TeamState
from services.router.tables import lead_owners, rep_counters, rotation
from shared.db.dialect import insert_ignoring_conflicts

_COUNTER_FIELDS = ("open_leads", "day_key", "day_count", "week_key", "week_count", "credit", "last_seq")


class RoutingRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def load(self, teams: Sequence[Team]) -> dict[str, TeamState]:
        names = sorted({t.name for t in teams})
        if not names:
            return {}
        s = self.session
        await s.execute(
            insert_ignoring_conflicts(s, rotation), [{"team": n, "assignments": 0} for n in names]
        )
        rows = await s.execute(
            select(rotation.c.team, rotation.c.last_rep_id, rotation.c.assignments)
            .where(rotation.c.team.in_(names))
            .order_by(rotation.c.team)
            .with_for_update()
        )
        heads = {r.team: (r.last_rep_id, int(r.assignments)) for r in rows}
        rep_ids = sorted({r.id for t in teams for r in t.reps})
        counters: dict[str, RepCounters] = {}
        if rep_ids:
            found = await s.execute(select(rep_counters).where(rep_counters.c.rep_id.in_(rep_ids)))
            for row in found.mappings():
                counters[row["rep_id"]] = RepCounters(**{f: row[f] for f in _COUNTER_FIELDS})
        states = {}
        for team in {t.name: t for t in teams}.values():
            last, seq = heads[team.name]
            reps = {r.id: counters[r.id] for r in team.reps if r.id in counters}
            states[team.name] = TeamState(team.name, seq, last, reps)
        return states

    async def save(self, before: Mapping[str, TeamState], after: Mapping[str, TeamState]) -> None:
        now = datetime.now(UTC)
        heads = [
            {"k_team": name, "last_rep_id": state.last_rep_id, "assignments": state.seq, "updated_at": now}
            for name, state in after.items()
            if state.seq != before[name].seq
        ]
        if heads:
            await self.session.execute(update(rotation).where(rotation.c.team == bindparam("k_team")), heads)
        changed: list[dict[str, Any]] = []
        for name, state in after.items():
            old = before[name].reps
            for rep_id, counters in state.reps.items():
                if old.get(rep_id) != counters:
                    changed.append(
                        {"rep_id": rep_id, "team": name, **{f: getattr(counters, f) for f in _COUNTER_FIELDS}}
                    )
        if changed:
            # Rows may not exist yet: create them empty, then set them (portable upsert).
            await self.session.execute(
                insert_ignoring_conflicts(self.session, rep_counters),
                [{"rep_id": c["rep_id"], "team": c["team"]} for c in changed],
            )
            await self.session.execute(
                update(rep_counters).where(rep_counters.c.rep_id == bindparam("k_rep")),
                [{"k_rep": c.pop("rep_id"), **{k: v for k, v in c.items() if k != "team"}} for c in changed],
            )

    async def own(self, rows: Sequence[tuple[str, str, str, datetime]]) -> None:
        """Record the owner of newly assigned leads (lead, rep, team, when)."""
        if rows:
            await self.session.execute(
                insert_ignoring_conflicts(self.session, lead_owners),
                [
                    {"lead_id": lead, "rep_id": rep, "team": team, "open": True, "assigned_at": at}
                    for lead, rep, team, at in rows
                ],
            )

    async def transfer(self, lead_id: str, rep_id: str, team: str, at: datetime) -> None:
        """A reassignment: the previous owner's open lead is released, the new owner takes it."""
        await self.release(lead_id)
        await self.session.execute(
            update(lead_owners)
            .where(lead_owners.c.lead_id == lead_id)
            .values(rep_id=rep_id, team=team, open=True)
        )
        await self.own([(lead_id, rep_id, team, at)])  # when it had no owner row yet
        # The new owner's open-lead count moved with the placement's counters (`save`).

    async def transfer_many(self, moves: Sequence[tuple[str, str, str, datetime]]) -> None:
        """`transfer` for many leads (lead, rep, team, when) in a few statements, in order.

        A lead moved twice (two clocks of one lead reassigned in one batch) goes in a later round,
        so each move releases the owner the previous one set, as one `transfer` after another would.
        """
        rounds: list[dict[str, tuple[str, str, str, datetime]]] = []
        for move in moves:
            free = next((r for r in rounds if move[0] not in r), None)
            if free is None:
                free = {}
                rounds.append(free)
            free[move[0]] = move
        for batch in rounds:
            await self._transfer_round(list(batch.values()))

    async def _transfer_round(self, moves: Sequence[tuple[str, str, str, datetime]]) -> None:
        s = self.session
        owners = (
            await s.execute(
                select(lead_owners.c.rep_id).where(
                    lead_owners.c.lead_id.in_([lead for lead, _, _, _ in moves]), lead_owners.c.open.is_(True)
                )
            )
        ).scalars()
        released = [{"k_rep": rep} for rep in owners]  # one row per lead: a rep may lose several
        if released:
            await s.execute(
                update(rep_counters)
                .where(rep_counters.c.rep_id == bindparam("k_rep"), rep_counters.c.open_leads > 0)
                .values(open_leads=rep_counters.c.open_leads - 1),
                released,
            )
        await s.execute(
            update(lead_owners).where(lead_owners.c.lead_id == bindparam("k_lead")),
            [{"k_lead": lead, "rep_id": rep, "team": team, "open": True} for lead, rep, team, _ in moves],
        )
        await self.own(moves)  # leads that had no owner row yet
        # The new owners' open-lead counts moved with the placements' counters (`save`).

    async def release(self, lead_id: str) -> str | None:
        """The lead is closed for its owner: one open lead less for them. The rep released, if any."""
        owner = (
            await self.session.execute(
                select(lead_owners.c.rep_id).where(
                    lead_owners.c.lead_id == lead_id, lead_owners.c.open.is_(True)
                )
            )
        ).scalar_one_or_none()
        if owner is None:
            return None
        await self.session.execute(
            update(lead_owners).where(lead_owners.c.lead_id == lead_id).values(open=False)
        )
        await self.session.execute(
            update(rep_counters)
            .where(rep_counters.c.rep_id == owner, rep_counters.c.open_leads > 0)
            .values(open_leads=rep_counters.c.open_leads - 1)
        )
        return str(owner)
