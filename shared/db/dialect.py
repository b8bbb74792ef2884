"""Dialect-specific SQL the portable core lacks: INSERT ... ON CONFLICT DO NOTHING."""

from __future__ import annotations

from sqlalchemy import Table
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.dml import Insert


def insert_ignoring_conflicts(session: AsyncSession, table: Table) -> Insert:
    """An INSERT that skips rows whose key already exists (PostgreSQL and SQLite both support it).

    Call `.values(...)` on the result; the conflict clause is added here.
    """
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        return pg_insert(table).on_conflict_do_nothing()
    return sqlite_insert(table).on_conflict_do_nothing()


def upsert(session: AsyncSession, table: Table, keys: list[str], update: list[str]) -> Insert:
    """INSERT ... ON CONFLICT (keys) DO UPDATE SET update = excluded.update (both databases)."""
    insert_ = pg_insert(table) if session.get_bind().dialect.name == "postgresql" else sqlite_insert(table)
    return insert_.on_conflict_do_update(
        index_elements=keys, set_={name: getattr(insert_.excluded, name) for name in update}
    )
