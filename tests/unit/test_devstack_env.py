"""What `leadrelay up` hands its services: the embedded broker gets a shorter consumer session."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from services.devstack.stack import EMBEDDED_SESSION_TIMEOUT_MS, Stack
from shared.kafka.process import free_port

pytestmark = pytest.mark.unit


class _Started(Stack):
    """`prepare` without a real broker: the broker's start is not what is tested here."""

    def start_broker(self, say: Callable[[str], None]) -> str:
        self.broker = object()  # type: ignore[assignment]
        return "127.0.0.1:1"


def _env(tmp_path: Path, kind: str, monkeypatch: pytest.MonkeyPatch, **given: str) -> dict[str, str]:
    monkeypatch.delenv("LEADRELAY_KAFKA_SESSION_TIMEOUT_MS", raising=False)
    for name, value in given.items():
        monkeypatch.setenv(name, value)
    ports = {name: free_port() for name in ("ingest", "router", "metrics", "delivery")}
    stack = _Started(state_dir=tmp_path, ports=ports, broker_kind=kind)  # type: ignore[arg-type]
    stack.prepare(lambda _: None)
    return stack.env


def test_embedded_broker_services_get_kafkas_minimum_session(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = _env(tmp_path, "embedded", monkeypatch)
    assert env["LEADRELAY_KAFKA_SESSION_TIMEOUT_MS"] == str(EMBEDDED_SESSION_TIMEOUT_MS) == "6000"


def test_a_session_timeout_the_user_set_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env = _env(tmp_path, "embedded", monkeypatch, LEADRELAY_KAFKA_SESSION_TIMEOUT_MS="15000")
    assert env["LEADRELAY_KAFKA_SESSION_TIMEOUT_MS"] == "15000"


def test_apache_kafka_keeps_the_default_session(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert "LEADRELAY_KAFKA_SESSION_TIMEOUT_MS" not in _env(tmp_path, "kafka", monkeypatch)


def test_a_broker_of_the_users_keeps_the_default_session(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LEADRELAY_KAFKA_SESSION_TIMEOUT_MS", raising=False)
    monkeypatch.setenv("LEADRELAY_KAFKA_BOOTSTRAP", "kafka.example:9092")  # not started by `up`
    ports = {name: free_port() for name in ("ingest", "router", "metrics", "delivery")}
    stack = Stack(state_dir=tmp_path, ports=ports)
    stack.prepare(lambda _: None)
    assert stack.broker is None
    assert "LEADRELAY_KAFKA_SESSION_TIMEOUT_MS" not in stack.env
