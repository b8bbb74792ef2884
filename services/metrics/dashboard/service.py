"""What the dashboard shows, assembled from the dashboard repository: the SLA board (with business
time left on each clock's own calendar) and rep load against the routing weights."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.metrics.auth.masking import masked
from services.metrics.auth.principal import Principal
from services.metrics.dashboard.repository import DashboardRepository
from services.metrics.domain.periods import Window
from services.router.sla.calendar import Calendar
from services.router.sla.clock import business_seconds
from services.router.sla.setup import SlaSetup
from shared.config import LeadRelayConfig

DUE_SOON = timedelta(minutes=15)
BOARD_ROWS = 50  # the board lists the most urgent clocks; the counts cover them all


@dataclass(frozen=True)
class RepWeight:
    team: str
    rep_id: str
    name: str
    weight: float
    active: bool


@dataclass(frozen=True)
class DashboardConfig:
    """The config's parts the dashboard reads: SLA calendars and the routing teams' reps."""

    sla: SlaSetup | None = None
    reps: tuple[RepWeight, ...] = field(default_factory=tuple)

    @classmethod
    def from_config(cls, config: LeadRelayConfig) -> DashboardConfig:
        reps = tuple(
            # `weight` is read where the config has it (weighted routing); round robin is weight 1.
            RepWeight(team.name, rep.id, rep.name, float(getattr(rep, "weight", 1)), rep.active)
            for team in config.routing.teams
            for rep in team.reps
        )
        return cls(SlaSetup.from_config(config), reps)

    def calendar(self, policy: str, team: str, rep_id: str | None) -> Calendar | None:
        if self.sla is None:
            return None
        found = self.sla.policy(policy)
        return self.sla.calendar_for(found, team, rep_id) if found else self.sla.team_calendar(team)


def business_left(config: DashboardConfig, row: dict[str, Any], now: datetime) -> int | None:
    """Business seconds until the breach (negative: since it), on the clock's calendar."""
    breach_at = row.get("breach_at")
    calendar = config.calendar(row["policy"], row["team"], row["rep_id"])
    if breach_at is None or calendar is None:
        return None
    if now <= breach_at:
        return business_seconds(calendar, now, breach_at)
    return -business_seconds(calendar, breach_at, now)


async def sla_board(
    session: AsyncSession, config: DashboardConfig, principal: Principal, now: datetime
) -> dict[str, Any]:
    repo = DashboardRepository(session)
    counts = await repo.clock_counts(now, now + DUE_SOON)
    clocks = []
    for row in await repo.open_clocks(BOARD_ROWS):
        left = business_left(config, row, now)
        due_soon = (
            row["status"] != "breached"
            and row["breach_at"] is not None
            and row["breach_at"] <= now + DUE_SOON
        )
        clocks.append(
            masked(
                {
                    "clock_id": row["clock_id"],
                    "lead_id": row["lead_id"],
                    "policy": row["policy"],
                    "team": row["team"],
                    "rep_id": row["rep_id"],
                    "status": row["status"],
                    "due_soon": due_soon,
                    "breach_at": row["breach_at"].isoformat() if row["breach_at"] else None,
                    "business_seconds_left": left,
                    "escalations": row["escalations"],
                    "last_action": row["last_action"],
                    "email": row["email"],
                    "name": row["name"],
                    "company": row["company"],
                },
                principal,
            )
        )
    by_rep = sorted(
        (
            {**r, "next_due": r["next_due"].isoformat() if r["next_due"] else None}
            for r in await repo.clocks_by_rep()
        ),
        key=lambda r: (-r["breached"], -r["open"], r["rep_id"] or ""),
    )
    return {
        "as_of": now.isoformat(),
        "counts": counts,
        "totals": await repo.status_totals(),
        "clocks": clocks,
        "by_rep": by_rep,
    }


async def rep_load(session: AsyncSession, config: DashboardConfig, window: Window) -> list[dict[str, Any]]:
    """Leads assigned per rep in the cohort vs the share the routing weights promise (per team)."""
    assigned = {
        (team, rep): n
        for team, rep, n in await DashboardRepository(session).assigned_by_rep(window.start, window.end)
    }
    rows: list[dict[str, Any]] = []
    teams = {r.team for r in config.reps} | {team for team, _ in assigned}
    for team in sorted(teams):
        reps = [r for r in config.reps if r.team == team]
        known = {r.rep_id for r in reps}
        extra = [
            RepWeight(team, rep, rep, 0.0, False) for t, rep in assigned if t == team and rep not in known
        ]
        total = sum(n for (t, _), n in assigned.items() if t == team)
        weights = sum(r.weight for r in reps if r.active) or 1.0
        for rep in [*reps, *extra]:
            n = assigned.get((team, rep.rep_id), 0)
            expected = rep.weight / weights if rep.active else 0.0
            share = n / total if total else 0.0
            rows.append(
                {
                    "team": team,
                    "rep_id": rep.rep_id,
                    "name": rep.name,
                    "active": rep.active,
                    "weight": rep.weight,
                    "assigned": n,
                    "share": round(share, 4),
                    "expected_share": round(expected, 4),
                    "expected": round(expected * total, 1),
                    "deviation": round(share - expected, 4),
                }
            )
    return rows
