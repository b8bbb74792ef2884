"""Run a service's Alembic migrations to head, each service with its own version table.

Each service owns its tables and its migration history (`services/<name>/migrations`),
so services can be deployed and migrated independently against one database.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncEngine


def alembic_config(package: str, version_table: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", f"{package}:migrations")
    cfg.attributes["version_table"] = version_table
    return cfg


async def migrate_service(engine: AsyncEngine, service: str) -> None:
    """Migrate `services/<service>/migrations` to head, tracked in `<service>_alembic_version`."""
    await upgrade_to_head(engine, f"services.{service}", f"{service}_alembic_version")


async def upgrade_to_head(engine: AsyncEngine, package: str, version_table: str) -> None:
    cfg = alembic_config(package, version_table)

    def run(sync_conn: Connection) -> None:
        cfg.attributes["connection"] = sync_conn
        command.upgrade(cfg, "head")

    async with _sqlite_migration_lock(engine):
        async with engine.begin() as conn:
            await conn.run_sync(run)


@asynccontextmanager
async def _sqlite_migration_lock(engine: AsyncEngine) -> AsyncIterator[None]:
    """Several processes starting at once on one SQLite file (two deliverers, `leadrelay up`'s
    services): one migrates, the others wait and then find it done. A transaction cannot do this
    on SQLite, where each DDL statement commits on its own, so the lock is a file lock beside the
    database. PostgreSQL takes an advisory lock instead (alembic_env.run_migrations)."""
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        yield
        return
    path = Path(database)
    fd = os.open(path.with_name(f"{path.name}.migrate-lock"), os.O_CREAT | os.O_RDWR, 0o600)
    try:
        await asyncio.to_thread(fcntl.flock, fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock
