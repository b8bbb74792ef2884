"""What counts as "the database is not there right now" (retry, pause) versus a real error."""

from __future__ import annotations

import asyncpg
import pytest
from sqlalchemy.exc import DBAPIError, IntegrityError

from shared.db.engine import is_transient_db_error

pytestmark = pytest.mark.unit


class _Adapted(Exception):
    """What SQLAlchemy's asyncpg dialect raises: the server's SQLSTATE copied onto it."""

    def __init__(self, message: str, sqlstate: str) -> None:
        super().__init__(message)
        self.sqlstate = sqlstate


@pytest.mark.parametrize(
    "sqlstate",
    ["57P01", "57P02", "57P03", "08006", "08001", "53300"],  # shutdown, crash, starting, connection, too many
)
def test_a_restarting_or_unreachable_server_is_transient(sqlstate: str) -> None:
    wrapped = DBAPIError("SELECT 1", {}, _Adapted("the database system is shutting down", sqlstate))
    assert is_transient_db_error(wrapped)


def test_driver_and_socket_errors_are_transient() -> None:
    assert is_transient_db_error(asyncpg.exceptions.CannotConnectNowError("starting up"))
    assert is_transient_db_error(ConnectionRefusedError(111, "Connection refused"))


@pytest.mark.parametrize("sqlstate", ["23505", "42P01", "22P02"])  # unique violation, no table, bad input
def test_real_errors_are_not(sqlstate: str) -> None:
    assert not is_transient_db_error(IntegrityError("INSERT", {}, _Adapted("duplicate key", sqlstate)))
    assert not is_transient_db_error(ValueError("a bug"))
