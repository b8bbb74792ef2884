"""Settings from the environment: shared connections in `common`, own knobs, no placeholder secrets."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pydantic import ValidationError

from services.ingest.settings import IngestSettings
from services.router.settings import RouterSettings
from shared.settings import DEFAULT_SQLITE_URL, CommonSettings

pytestmark = pytest.mark.unit

REAL_KEY = "f3c1e0b27a9d4c5e8b6a1d0f2e4c6a8b"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Start every test from no LEADRELAY_* variables, whatever the shell running pytest has set."""
    for name in [n for n in os.environ if n.upper().startswith("LEADRELAY_")]:
        monkeypatch.delenv(name)


# --- placeholder secrets ------------------------------------------------------------------


def test_production_refuses_the_placeholder_api_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEADRELAY_ENVIRONMENT", "production")

    with pytest.raises(ValidationError) as info:
        IngestSettings()

    message = str(info.value)
    assert "LEADRELAY_INGEST_API_KEY" in message
    assert "placeholder" in message
    assert "LEADRELAY_ENVIRONMENT=production" in message


@pytest.mark.parametrize("placeholder", ["changeme", "  ChangeMe ", "secret", "password", "dev-api-key", ""])
def test_production_refuses_every_placeholder_spelling(
    monkeypatch: pytest.MonkeyPatch, placeholder: str
) -> None:
    monkeypatch.setenv("LEADRELAY_ENVIRONMENT", "production")
    monkeypatch.setenv("LEADRELAY_INGEST_API_KEY", placeholder)

    with pytest.raises(ValidationError, match="LEADRELAY_INGEST_API_KEY"):
        IngestSettings()


def test_staging_refuses_the_placeholder_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEADRELAY_ENVIRONMENT", "staging")

    with pytest.raises(ValidationError, match="LEADRELAY_INGEST_API_KEY"):
        IngestSettings()


def test_production_accepts_a_real_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEADRELAY_ENVIRONMENT", "production")
    monkeypatch.setenv("LEADRELAY_INGEST_API_KEY", REAL_KEY)

    settings = IngestSettings()

    assert settings.api_key.get_secret_value() == REAL_KEY
    assert settings.common.environment == "production"
    assert not settings.common.is_dev


def test_production_refuses_a_placeholder_rotation_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEADRELAY_ENVIRONMENT", "production")
    monkeypatch.setenv("LEADRELAY_INGEST_API_KEY", REAL_KEY)
    monkeypatch.setenv("LEADRELAY_INGEST_API_KEY_NEXT", "changeme")

    with pytest.raises(ValidationError, match="LEADRELAY_INGEST_API_KEY_NEXT"):
        IngestSettings()


@pytest.mark.parametrize("environment", [None, "dev", "test"])
def test_dev_and_test_accept_the_placeholder(
    monkeypatch: pytest.MonkeyPatch, environment: str | None
) -> None:
    if environment is not None:
        monkeypatch.setenv("LEADRELAY_ENVIRONMENT", environment)

    settings = IngestSettings()

    assert settings.api_key.get_secret_value() == "dev-api-key"
    assert settings.common.is_dev


def test_unknown_environment_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEADRELAY_ENVIRONMENT", "prod")

    with pytest.raises(ValidationError, match="environment"):
        IngestSettings()


def test_api_key_is_not_shown_in_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEADRELAY_INGEST_API_KEY", REAL_KEY)

    assert REAL_KEY not in repr(IngestSettings())


# --- where variables land -------------------------------------------------------------------


def test_shared_variables_reach_common_and_service_variables_reach_the_service(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LEADRELAY_KAFKA_BOOTSTRAP", "kafka-1:9093")
    monkeypatch.setenv("LEADRELAY_DATABASE_URL", "postgresql+asyncpg://db/leadrelay")
    monkeypatch.setenv("LEADRELAY_INGEST_PORT", "9100")

    settings = IngestSettings()

    assert settings.common.kafka_bootstrap == "kafka-1:9093"
    assert settings.common.database_url == "postgresql+asyncpg://db/leadrelay"
    assert settings.port == 9100


def test_defaults_without_any_variable() -> None:
    settings = IngestSettings()

    assert settings.port == 8000
    assert settings.common.kafka_bootstrap == "127.0.0.1:9092"
    assert settings.common.database_url == DEFAULT_SQLITE_URL
    assert settings.common.config == Path("examples/leadrelay.yaml")


def test_one_service_prefix_does_not_leak_into_another(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEADRELAY_INGEST_PORT", "9100")
    monkeypatch.setenv("LEADRELAY_ROUTER_PORT", "9101")

    assert IngestSettings().port == 9100
    assert RouterSettings().port == 9101


def test_prefixed_shared_names_do_not_rename_shared_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEADRELAY_INGEST_DATABASE_URL", "sqlite+aiosqlite:///wrong.db")

    assert IngestSettings().common.database_url == DEFAULT_SQLITE_URL


def test_bad_port_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEADRELAY_INGEST_PORT", "eighty")

    with pytest.raises(ValidationError, match="port"):
        IngestSettings()


def test_config_path_comes_from_leadrelay_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("LEADRELAY_CONFIG", str(tmp_path / "mine.yaml"))

    assert CommonSettings().config == tmp_path / "mine.yaml"


def test_a_service_database_overrides_the_shared_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEADRELAY_DATABASE_URL", "postgresql://shared/db")
    monkeypatch.setenv("LEADRELAY_ROUTER_DATABASE_URL", "sqlite:///router.db")
    assert RouterSettings().effective_database_url == "sqlite:///router.db"
    assert IngestSettings().effective_database_url == "postgresql://shared/db"


def test_without_a_database_url_each_service_has_its_own_sqlite_file(monkeypatch: pytest.MonkeyPatch) -> None:
    """As `leadrelay up` lays them out, so `leadrelay keys create` beside `up` writes where metrics reads."""
    for name in ("LEADRELAY_DATABASE_URL", "LEADRELAY_METRICS_DATABASE_URL", "LEADRELAY_INGEST_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    from services.ingest.settings import IngestSettings
    from services.metrics.settings import MetricsSettings

    assert MetricsSettings().effective_database_url.endswith("/.leadrelay/metrics.db")
    assert IngestSettings().effective_database_url.endswith("/.leadrelay/ingest.db")
    monkeypatch.setenv("LEADRELAY_DATABASE_URL", "postgresql://db/leadrelay")
    assert MetricsSettings().effective_database_url == "postgresql://db/leadrelay"


# --- consumer group session ---------------------------------------------------------------


def test_the_session_timeout_reaches_every_service_consumer(monkeypatch: pytest.MonkeyPatch) -> None:
    from shared.runtime import service_consumer

    monkeypatch.setenv("LEADRELAY_KAFKA_SESSION_TIMEOUT_MS", "6000")
    common = CommonSettings()
    loop = service_consumer(
        common,
        group_id="g",
        topics=["t"],
        handler=None,
        dead_letters=None,
        max_attempts=3,  # type: ignore[arg-type]
    )
    assert loop._session_timeout_ms == 6000
    assert CommonSettings.model_fields["kafka_session_timeout_ms"].default == 10000


def test_a_session_timeout_under_kafkas_floor_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEADRELAY_KAFKA_SESSION_TIMEOUT_MS", "500")
    with pytest.raises(ValidationError, match="kafka_session_timeout_ms"):
        CommonSettings()
