"""Run a service's Alembic migrations to head, each service with its own version table.

Each service owns its tables and its migration history (`services/<name>/migrations`),
so services can be deployed and migrated independently against one database.
"""

from __future__ import annotations

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

    async with engine.begin() as conn:
        await conn.run_sync(run)
