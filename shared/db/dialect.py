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
