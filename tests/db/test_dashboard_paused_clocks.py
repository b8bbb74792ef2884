"""Paused SLA clocks on the live board (sla.paused / sla.resumed folded by the metrics projector):
a paused clock leaves the running set (never due, never urgent, counted as paused), a resume puts it
back with its moved deadline and the status it had, a breach that arrives while paused is where it
resumes to, and nothing after the stop moves it. SQLite and PostgreSQL (when configured)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.metrics.dashboard.live import apply_live
from services.metrics.dashboard.repository import DashboardRepository
from services.metrics.tables import sla_clocks
from shared.events import CloudEvent, Event, SlaBreached, SlaMet, SlaPaused, SlaResumed, SlaStarted

pytestmark = pytest.mark.db

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
CLOCK: dict[str, Any] = {
    "clock_id": "lead-1:first-touch",
    "policy": "first-touch",
    "target": "first_touch",
    "team": "amer",
    "rep_id": "ana",
}
DUE_SOON = timedelta(minutes=15)


async def _apply(sessions: async_sessionmaker[AsyncSession], payload: Event) -> None:
    event = CloudEvent.wrap(payload, subject="lead-1", source="test", time=NOW)
    async with sessions() as s, s.begin():
        await apply_live(s, event, payload)


async def _row(sessions: async_sessionmaker[AsyncSession]) -> dict[str, Any]:
    async with sessions() as s:
        row = (await s.execute(select(sla_clocks))).mappings().one()
    return dict(row)


async def _board(sessions: async_sessionmaker[AsyncSession]) -> tuple[list[dict[str, Any]], dict[str, int]]:
    async with sessions() as s:
        repo = DashboardRepository(s)
        return await repo.open_clocks(50), await repo.clock_counts(NOW, NOW + DUE_SOON)


def _started(breach_in: timedelta) -> SlaStarted:
    return SlaStarted(
        **CLOCK,
        started_at=NOW - timedelta(minutes=1),
        target_seconds=300,
        warning_at=None,
        breach_at=NOW + breach_in,
        timezone="America/New_York",
        system_delay_seconds=2,
    )


def _paused() -> SlaPaused:
    return SlaPaused(**CLOCK, reason="waiting_on_prospect", paused_at=NOW, business_seconds=60)


def _resumed(breach_at: datetime) -> SlaResumed:
    return SlaResumed(
        **CLOCK,
        reason="waiting_on_prospect",
        resumed_by="first_touch",
        paused_at=NOW,
        resumed_at=NOW + timedelta(hours=2),
        paused_seconds=7200,
        paused_business_seconds=7200,
        warning_at=None,
        breach_at=breach_at,
    )


async def test_a_paused_clock_leaves_the_running_set_and_comes_back_with_its_moved_deadline(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await _apply(sessions, _started(timedelta(minutes=4)))
    urgent, counts = await _board(sessions)
    assert [c["clock_id"] for c in urgent] == [CLOCK["clock_id"]]
    assert (counts["open"], counts["due_soon"], counts["paused"]) == (1, 1, 0)

    await _apply(sessions, _paused())
    row = await _row(sessions)
    assert (row["status"], row["pause_reason"], row["status_before_pause"]) == (
        "paused",
        "waiting_on_prospect",
        "open",
    )
    urgent, counts = await _board(sessions)
    assert urgent == []
    assert (counts["open"], counts["due_soon"], counts["breached"], counts["paused"]) == (0, 0, 0, 1)

    moved = NOW + timedelta(hours=2, minutes=4)
    await _apply(sessions, _resumed(moved))
    row = await _row(sessions)
    assert (row["status"], row["pause_reason"], row["status_before_pause"]) == ("open", None, None)
    assert row["breach_at"] == moved
    urgent, counts = await _board(sessions)
    assert [c["clock_id"] for c in urgent] == [CLOCK["clock_id"]]
    assert (counts["open"], counts["due_soon"], counts["paused"]) == (1, 0, 0)


async def test_a_breach_while_paused_is_where_the_clock_resumes_to_and_the_stop_is_final(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await _apply(sessions, _started(timedelta(minutes=-1)))
    await _apply(sessions, _paused())
    await _apply(sessions, _paused())  # a repeat changes nothing
    breached = SlaBreached(**CLOCK, target_seconds=300, due_at=NOW, fired_at=NOW)
    await _apply(sessions, breached)
    row = await _row(sessions)
    assert (row["status"], row["status_before_pause"]) == ("paused", "breached")

    await _apply(sessions, _resumed(NOW + timedelta(hours=2)))
    assert (await _row(sessions))["status"] == "breached"
    _, counts = await _board(sessions)
    assert (counts["breached"], counts["paused"]) == (1, 0)

    met = SlaMet(
        **CLOCK,
        stopped_by="first_touch",
        stopped_at=NOW + timedelta(hours=3),
        within_target=False,
        business_seconds=900,
        wall_seconds=10800,
        paused_seconds=7200,
        target_seconds=300,
        system_delay_seconds=2,
        rep_delay_seconds=10798,
    )
    await _apply(sessions, met)
    await _apply(sessions, _paused())  # after the stop: ignored
    row = await _row(sessions)
    assert (row["status"], row["pause_reason"]) == ("met", None)
    _, counts = await _board(sessions)
    assert counts["paused"] == 0


async def test_a_pause_seen_before_the_start_still_takes_the_clock_off_the_board(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await _apply(sessions, _paused())
    row = await _row(sessions)
    assert (row["status"], row["status_before_pause"]) == ("paused", "open")
    urgent, counts = await _board(sessions)
    assert (urgent, counts["paused"]) == ([], 1)
