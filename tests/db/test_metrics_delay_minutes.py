"""The stored speed-to-lead durations (m0004): written by the fold, backfilled by the migration,
equal to plain arithmetic on the stage timestamps. SQLite, and PostgreSQL when configured."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from alembic import command
from sqlalchemy import Connection, String, column, insert, select, table
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.metrics.replay import facts_of, project_batch
from services.metrics.synthetic import history
from services.metrics.tables import leads
from shared.db import create_engine
from shared.db.migrate import alembic_config
from shared.db.tables import UtcDateTime
from shared.dispatch import decode

pytestmark = pytest.mark.db

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


def _minutes(later: datetime | None, earlier: datetime | None) -> float | None:
    return None if later is None or earlier is None else (later - earlier).total_seconds() / 60


async def test_the_fold_stores_each_leads_durations(sessions: async_sessionmaker[AsyncSession]) -> None:
    stories = history(300, seed=11)
    decoded = [d for story in stories for e in story if (d := decode(e.cloud_event().to_bytes()))]
    await project_batch(sessions, facts_of(decoded))
    cols = (leads.c.captured_at, leads.c.assigned_at, leads.c.first_touch_at)
    stored = (leads.c.speed_minutes, leads.c.system_minutes, leads.c.rep_minutes)
    async with sessions() as s:
        rows = (await s.execute(select(*cols, *stored))).all()
    touched = 0
    for captured, assigned, first_touch, speed, system, rep in rows:
        assert speed == _minutes(first_touch, captured)
        assert system == _minutes(assigned, captured)
        assert rep == _minutes(first_touch, assigned)
        touched += speed is not None
    assert touched > 100  # the generated year has first touches to check


async def test_the_migration_backfills_rows_folded_before_it(database_url: str) -> None:
    engine = create_engine(database_url)
    cfg = alembic_config("services.metrics", "metrics_alembic_version")

    def upgrade_to(revision: str) -> Callable[[Connection], None]:
        def run(sync_conn: Connection) -> None:
            cfg.attributes["connection"] = sync_conn
            command.upgrade(cfg, revision)

        return run

    # metrics_leads as m0003 left it: no duration columns yet.
    before = table(
        "metrics_leads",
        column("lead_id", String()),
        column("updated_at", UtcDateTime()),
        column("captured_at", UtcDateTime()),
        column("assigned_at", UtcDateTime()),
        column("first_touch_at", UtcDateTime()),
    )
    rows = [
        # touched 7 min 30.25 s after capture, assigned after 12 s
        ("a", T0, T0 + timedelta(seconds=12), T0 + timedelta(minutes=7, seconds=30, microseconds=250_000)),
        ("b", T0, T0 + timedelta(days=1, hours=2, seconds=1), None),  # assigned a day later, never touched
        ("c", T0, None, T0 - timedelta(minutes=2)),  # a touch logged before the capture
        ("d", None, None, None),  # known only from a later event
    ]
    try:
        async with engine.begin() as conn:
            await conn.run_sync(upgrade_to("m0003"))
            await conn.execute(
                insert(before),
                [
                    {"lead_id": i, "updated_at": T0, "captured_at": c, "assigned_at": a, "first_touch_at": t}
                    for i, c, a, t in rows
                ],
            )
        async with engine.begin() as conn:
            await conn.run_sync(upgrade_to("head"))
        async with engine.connect() as conn:
            stmt = select(leads.c.lead_id, leads.c.speed_minutes, leads.c.system_minutes, leads.c.rep_minutes)
            found = {r[0]: tuple(r[1:]) for r in await conn.execute(stmt.order_by(leads.c.lead_id))}
    finally:
        await engine.dispose()
    expected = {i: (_minutes(t, c), _minutes(a, c), _minutes(t, a)) for i, c, a, t in rows}
    assert found.keys() == expected.keys()
    for lead_id, values in expected.items():
        for got, want in zip(found[lead_id], values, strict=True):
            # PostgreSQL's backfill is date_part on the interval: equal to the fold's to the last bits
            assert got == (None if want is None else pytest.approx(want, rel=1e-12)), lead_id
    assert found["a"][0] == pytest.approx(7.50416667, rel=1e-8)
    assert found["c"][0] == pytest.approx(-2.0)
