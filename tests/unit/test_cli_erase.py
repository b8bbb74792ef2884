"""`leadrelay erase`: exit 1 with the fix when there is no admin key or no ingest to ask; the
address is never echoed. (The happy path runs against a real stack in tests/e2e/test_erasure.py.)"""

from __future__ import annotations

import os

import pytest
from typer.testing import CliRunner

from services.cli import app
from shared.kafka.process import free_port

pytestmark = pytest.mark.unit


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [n for n in os.environ if n.upper().startswith("LEADRELAY_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("COLUMNS", "1000")


def _erase(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["erase", *args])
    return result.exit_code, result.output


def test_outside_dev_without_an_admin_key_it_says_which_variable_to_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LEADRELAY_ENVIRONMENT", "production")
    monkeypatch.setenv("LEADRELAY_INGEST_API_KEY", "f3c1e0b27a9d4c5e8b6a1d0f2e4c6a8b")
    code, output = _erase("--email", "ada.secret@example.org")
    assert code == 1 and "LEADRELAY_INGEST_ADMIN_API_KEY" in output
    assert "ada.secret" not in output


def test_an_unreachable_ingest_is_named_with_the_fix() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    code, output = _erase("--email", "ada.secret@example.org", "--url", url)
    assert code == 1 and f"cannot reach ingest at {url}" in output and "leadrelay up" in output
    assert "ada.secret" not in output
