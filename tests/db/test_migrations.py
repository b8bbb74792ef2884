"""Each service migrates its own tables, with its own version table, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.db.migrate import alembic_config, migrate_service

pytestmark = pytest.mark.db


async def test_every_service_owns_its_tables(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        names = set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
    assert {"ingest_delivery_ledger", "ingest_alembic_version"} <= names
    assert "ingest_idempotency" not in names  # i0007: the append-only ledger replaced it
    assert "ingest_deliveries" not in names
    assert {
        "router_inbox",
        "router_outbox",
        "router_decisions",
        "router_rotation",
        "router_alembic_version",
    } <= names
    assert {
        "metrics_inbox",
        "metrics_transitions",
        "metrics_leads",
        "metrics_lead_stages",
        "metrics_alembic_version",
    } <= names
    async with engine.connect() as conn:
        versions = {
            t: (await conn.execute(text(f"SELECT version_num FROM {t}"))).scalar_one()
            for t in ("ingest_alembic_version", "router_alembic_version", "metrics_alembic_version")
        }
    assert versions == {
        f"{service}_alembic_version": _head(service) for service in ("ingest", "router", "metrics")
    }
    assert {versions["ingest_alembic_version"][0], versions["router_alembic_version"][0]} == {"i", "r"}


def _head(service: str) -> str:
    """The newest revision in the service's own migration scripts."""
    script = ScriptDirectory.from_config(alembic_config(f"services.{service}", f"{service}_alembic_version"))
    head = script.get_current_head()
    assert head is not None
    return head


async def test_upgrade_is_idempotent(engine: AsyncEngine) -> None:
    await migrate_service(engine, "router")
    async with engine.connect() as conn:
        rows = (await conn.execute(text("SELECT count(*) FROM router_alembic_version"))).scalar_one()
    assert rows == 1
