"""Shared body of every service's `migrations/env.py` (online mode, on the caller's connection)."""

from __future__ import annotations

import zlib

from alembic import context
from sqlalchemy import MetaData, text


def run_migrations(target_metadata: MetaData) -> None:
    config = context.config
    connection = config.attributes["connection"]
    version_table = config.attributes["version_table"]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        version_table=version_table,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            # Several instances may start at once: one migrates, the others wait and find it done.
            connection.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": zlib.crc32(version_table.encode())}
            )
        context.run_migrations()
