"""Async SQLAlchemy engine for SQLite (embedded default) or PostgreSQL (shared state, scale-out)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine


def normalize_url(url: str) -> str:
    """Accept the plain URLs people paste (postgresql://, sqlite:///) and pick the async driver."""
    for plain, async_form in (
        ("postgresql://", "postgresql+asyncpg://"),
        ("postgres://", "postgresql+asyncpg://"),
        ("sqlite:///", "sqlite+aiosqlite:///"),
    ):
        if url.startswith(plain):
            return async_form + url[len(plain) :]
    return url


def create_engine(url: str, *, pool_size: int = 10) -> AsyncEngine:
    url = normalize_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, connect_args={"timeout": 30})
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    return create_async_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)


def _sqlite_pragmas(dbapi_conn: Any, _: Any) -> None:
    # WAL lets the services read while one writes; busy_timeout makes writers queue, not fail.
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


# SQLSTATE classes that mean "the server is not there right now": 08 connection exception,
# 57P operator intervention (admin shutdown, crash shutdown, cannot connect now: a restart), 53
# insufficient resources (too many connections). Retrying is right; dead-lettering would be wrong.
_TRANSIENT_SQLSTATE_PREFIXES = ("08", "57P", "53")


def _sqlstate(exc: BaseException) -> str | None:
    orig = getattr(exc, "orig", None)
    for candidate in (exc, orig, getattr(orig, "__cause__", None)):
        state = getattr(candidate, "sqlstate", None)
        if isinstance(state, str):
            return state
    return None


def is_transient_db_error(exc: BaseException) -> bool:
    """Database unreachable or restarting: wait and retry rather than dead-letter the message."""
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    state = _sqlstate(exc)
    if state is not None and state.startswith(_TRANSIENT_SQLSTATE_PREFIXES):
        return True
    if isinstance(exc, (OperationalError, InterfaceError)):
        return True
    return isinstance(exc, (ConnectionError, OSError, TimeoutError))
