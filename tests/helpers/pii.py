"""Where a person's values still are: every row of every table of a database, read whole.

Tables are enumerated from the live schema (never a hard-coded list), so a table added later is
searched too. Every column is read as text (bytes decoded, JSON as stored), case-insensitively.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import MetaData, select
from sqlalchemy.ext.asyncio import AsyncEngine


def _text(value: Any) -> str:
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).decode("utf-8", errors="replace")
    return str(value)


async def find_values(engine: AsyncEngine, values: Iterable[str]) -> dict[str, set[str]]:
    """{table: [value found, ...]} for every table holding one of `values` anywhere in a row."""
    wanted = [v.lower() for v in values]
    metadata = MetaData()
    async with engine.connect() as conn:
        await conn.run_sync(metadata.reflect)
        found: dict[str, set[str]] = {}
        for table in metadata.sorted_tables:
            for row in (await conn.execute(select(table))).all():
                text = " ".join(_text(v) for v in row).lower()
                hits = {v for v in wanted if v in text}
                if hits:
                    found.setdefault(table.name, set()).update(hits)
    return found


async def table_names(engine: AsyncEngine) -> list[str]:
    metadata = MetaData()
    async with engine.connect() as conn:
        await conn.run_sync(metadata.reflect)
    return [t.name for t in metadata.sorted_tables]
