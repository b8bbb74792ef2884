"""Shared fixtures: real Kafka-protocol brokers and real databases.

Brokers: the embedded Tansu broker always; Apache Kafka too when LEADRELAY_TEST_KAFKA=1
(`.ci/run` sets it after `make kafka-jars`). The `broker` fixture is parametrized over
them and session-scoped per kind, so every test that takes `broker` runs on each, one
broker process at a time.

Databases: SQLite always; PostgreSQL too when LEADRELAY_TEST_POSTGRES_URL is set (CI sets
it), each test on a database of its own so tests never see each other's rows.

The run ends with a line per backend: covered, or not and why.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from shared.kafka.brokers import Broker, BrokerKind, create_broker
from shared.kafka.jars import KAFKA_VERSION, fetch_jars, java_binary
from shared.logging import configure_logging
from tests.helpers.stack import KAFKA_WANTED

POSTGRES_URL = os.environ.get("LEADRELAY_TEST_POSTGRES_URL")
BACKENDS = ["sqlite", *(["postgresql"] if POSTGRES_URL else [])]
BROKERS: list[BrokerKind] = ["embedded", *(["kafka"] if KAFKA_WANTED else [])]

NOT_CONFIGURED = {
    "postgresql": "LEADRELAY_TEST_POSTGRES_URL is not set (.ci/run provisions PostgreSQL and sets it)",
    "kafka": "LEADRELAY_TEST_KAFKA is not set (needs Java 17+; `make kafka-jars`, then "
    "LEADRELAY_TEST_KAFKA=1; .ci/run does both)",
}
_used: set[str] = set()


@pytest.fixture(scope="session", autouse=True)
def _logs_to_stderr() -> None:
    """As in the services: structured logs on stderr, so stdout stays the program's output."""
    configure_logging("INFO", "console")


@pytest.fixture(scope="session", params=BROKERS)
def broker(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    """A broker on free ports for the whole session, one per kind (embedded, and Apache Kafka when asked)."""
    kind: BrokerKind = request.param
    if kind == "kafka":
        # Asked for explicitly: missing Java or jars is an error to fix, never a silent skip.
        java_binary()
        fetch_jars()
    log = tmp_path_factory.mktemp(f"broker-{kind}") / "broker.log"
    started = create_broker(kind, log_path=log)
    started.start()
    _used.add(kind)
    yield started
    started.stop()


def _asyncpg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture(params=BACKENDS)
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A fresh, empty database URL for this test (SQLite file, or a new PostgreSQL database)."""
    _used.add(request.param)
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


def _pairs() -> set[tuple[str, str]]:
    """(broker, database) pairs that cover every configured backend at least once:
    with both of each, embedded+sqlite (the default stack) and kafka+postgresql (production)."""
    count = max(len(BROKERS), len(BACKENDS))
    return {(BROKERS[i % len(BROKERS)], BACKENDS[i % len(BACKENDS)]) for i in range(count)}


FULL_MATRIX = os.environ.get("LEADRELAY_TEST_FULL_MATRIX") == "1"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked `pairwise` run on backend pairs, not on every broker x database: what a kill
    exercises in the database does not depend on which broker fed it, a signature or field check
    that answers before any I/O does not depend on either, and each broker and each database
    still gets the test. LEADRELAY_TEST_FULL_MATRIX=1 runs them all."""
    if FULL_MATRIX:
        return
    pairs = _pairs()
    keep: list[pytest.Item] = []
    dropped: list[pytest.Item] = []
    for item in items:
        params = getattr(item, "callspec", None)
        pair = (params.params.get("broker"), params.params.get("database_url")) if params else None
        off_pair = pair is not None and None not in pair and pair not in pairs
        if item.get_closest_marker("pairwise") and off_pair:
            dropped.append(item)
        else:
            keep.append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say which real backends this run exercised, and for each one it did not, why."""
    configured = {"sqlite": True, "postgresql": bool(POSTGRES_URL), "embedded": True, "kafka": KAFKA_WANTED}
    names = {"kafka": f"kafka (Apache Kafka {KAFKA_VERSION})", "embedded": "embedded (Tansu)"}
    terminalreporter.section("backends")
    for group, kinds in (("database", ("sqlite", "postgresql")), ("broker", ("embedded", "kafka"))):
        for kind in kinds:
            label = names.get(kind, kind)
            if kind in _used:
                terminalreporter.write_line(f"{group}: {label}: covered")
            elif not configured[kind]:
                terminalreporter.write_line(f"{group}: {label}: NOT covered: {NOT_CONFIGURED[kind]}")
            else:
                terminalreporter.write_line(f"{group}: {label}: NOT covered: no selected test used it")
