"""Shared fixtures: a real Kafka-protocol broker and real databases.

SQLite always; PostgreSQL too when LEADRELAY_TEST_POSTGRES_URL is set (CI sets it),
each test on a database of its own so tests never see each other's rows.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from shared.kafka.embedded import EmbeddedBroker
from shared.logging import configure_logging

POSTGRES_URL = os.environ.get("LEADRELAY_TEST_POSTGRES_URL")
BACKENDS = ["sqlite", *(["postgresql"] if POSTGRES_URL else [])]


@pytest.fixture(scope="session", autouse=True)
def _logs_to_stderr() -> None:
    """As in the services: structured logs on stderr, so stdout stays the program's output."""
    configure_logging("INFO", "console")


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedBroker]:
    """The embedded Tansu broker on a free port, for the whole session."""
    log = tmp_path_factory.mktemp("broker") / "broker.log"
    embedded = EmbeddedBroker(log_path=log)
    embedded.start()
    yield embedded
    embedded.stop()


def _asyncpg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture(params=BACKENDS)
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A fresh, empty database URL for this test (SQLite file, or a new PostgreSQL database)."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'leadrelay.db'}"
        return
    assert POSTGRES_URL is not None
    name = f"leadrelay_t_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(_asyncpg_dsn(POSTGRES_URL))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    yield (
        make_url(POSTGRES_URL)
        .set(drivername="postgresql+asyncpg", database=name)
        .render_as_string(hide_password=False)
    )
    admin = await asyncpg.connect(_asyncpg_dsn(POSTGRES_URL))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture
def topic_prefix() -> str:
    """A topic namespace of this test's own on the shared broker."""
    return f"t{uuid.uuid4().hex[:8]}."
