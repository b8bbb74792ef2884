"""A page of due timers, applied on the timer loop's transaction: load, decide, write, all in bulk.

One page costs a fixed handful of statements whatever its size: the page's clocks (row-locked, in
id order), the rotation rows and counters of the teams it reassigns in (row-locked, sorted), then
owners, ownership transfers, decision records and outbox rows, each written in one statement. What
each timer does is decided in pure code (`steps.plan_page`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.router.repository import RouterRepository
from services.router.routing import Team
from services.router.routing.repository import RoutingRepository
from services.router.sla.repository import DueTimer, SlaRepository
from services.router.sla.service import SlaService
from services.router.sla.steps import FiringPlan, plan_page, teams_to_lock


class Ladder:
    def __init__(self, sla: SlaService, teams: list[Team]) -> None:
        self.sla = sla
        self.teams = teams

    @property
    def teams(self) -> list[Team]:
        return list(self._teams.values())

    @teams.setter
    def teams(self, teams: list[Team]) -> None:  # a config reload swaps them
        self._teams = {t.name: t for t in teams}

    async def fire_page(
        self, session: AsyncSession, due: Sequence[DueTimer], now: datetime, topic: str
    ) -> FiringPlan:
        """Apply claimed timers: their events in the outbox (`topic`), owners moved, decisions stored.

        The caller marks the plan's `fired`, `cancelled` and `held` rows. Lock order is the
        feedback path's: timers (claimed), then clocks, then team rotation rows.
        """
        repo = SlaRepository(session)
        clocks = await repo.clocks([t.clock_id for t in due])
        teams = dict(self._teams)
        routing = RoutingRepository(session)
        states = await routing.load(teams_to_lock(due, clocks, teams))
        plan = plan_page(self.sla.setup, teams, due, clocks, states, now)
        if states:
            await routing.save(states, plan.states)
        await routing.transfer_many(plan.transfers)
        await repo.set_owners(plan.owners)
        router_repo = RouterRepository(session)
        await router_repo.record(plan.decisions)
        await router_repo.enqueue(topic, plan.events)
        return plan
