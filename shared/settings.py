"""Connection settings shared by every service (environment, `LEADRELAY_` prefix).

Per-service settings subclass `ServiceSettings` with their own prefix
(`LEADRELAY_INGEST_`, ...). Secrets that still hold a placeholder are refused
outside the `dev` environment, so a production deploy cannot start with them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_STATE_DIR = Path(".leadrelay")
DEFAULT_SQLITE_URL = f"sqlite+aiosqlite:///./{DEFAULT_STATE_DIR}/leadrelay.db"
PLACEHOLDER_SECRETS = frozenset(
    {"", "changeme", "change-me", "dev-api-key", "dev-admin-key", "secret", "password"}
)

Environment = Literal["dev", "test", "staging", "production"]


class CommonSettings(BaseSettings):
    """What every process needs: where the broker, the database and the config are."""

    model_config = SettingsConfigDict(env_prefix="LEADRELAY_", extra="ignore")

    environment: Environment = "dev"
    kafka_bootstrap: str = "127.0.0.1:9092"
    database_url: str = DEFAULT_SQLITE_URL
    topic_prefix: str = "leadrelay."
    config: Path = Path("examples/leadrelay.yaml")
    log_level: str = "INFO"
    log_format: Literal["json", "console"] = "json"
    # Bounded waits: a write that cannot be acknowledged in time is refused, never left hanging.
    kafka_request_timeout_ms: int = 5000
    kafka_send_timeout_s: float = 5.0
    # Used when LeadRelay creates its topics (embedded broker, fresh clusters); keyed by lead id.
    kafka_partitions: int = 6
    # How long a consumer's fetch may wait for data. Kafka answers as soon as data arrives;
    # the embedded broker waits the full time, so this bounds its per-hop latency.
    kafka_fetch_max_wait_ms: int = 20
    # How long a consumer that stopped heartbeating (a killed process) keeps its partitions before
    # the group hands them to the others: the takeover delay after a crash. Kafka's floor is 6 s
    # (group.min.session.timeout.ms).
    kafka_session_timeout_ms: int = Field(default=10000, ge=6000)

    @property
    def is_dev(self) -> bool:
        return self.environment in ("dev", "test")


def require_real_secret(settings: CommonSettings, name: str, value: SecretStr | None) -> None:
    """Refuse placeholder secrets outside dev, naming the variable to set."""
    if settings.is_dev or value is None:
        return
    if value.get_secret_value().strip().lower() in PLACEHOLDER_SECRETS:
        raise ValueError(
            f"{name} holds a placeholder value while LEADRELAY_ENVIRONMENT={settings.environment}; "
            f"set {name} to a real secret (for example: openssl rand -hex 32)"
        )


class ServiceSettings(BaseSettings):
    """Base for per-service settings: own knobs under the service's prefix, shared ones in `common`.

    Composition rather than inheritance: a subclass's env prefix would otherwise also
    rename the shared variables (LEADRELAY_DATABASE_URL would become LEADRELAY_INGEST_DATABASE_URL).
    """

    common: CommonSettings = Field(default_factory=CommonSettings)
    # This service's own database, if not the shared LEADRELAY_DATABASE_URL. Each service owns its
    # tables, so they can live apart: with SQLite, one file each means no writer waits on another.
    database_url: str | None = None

    @property
    def effective_database_url(self) -> str:
        """This service's own URL, else the shared one when set, else this service's own SQLite file
        (what `leadrelay up` uses too, so a CLI command run beside `up` reads the same database)."""
        if self.database_url:
            return self.database_url
        if "database_url" in self.common.model_fields_set:
            return self.common.database_url
        prefix = str(self.model_config.get("env_prefix", ""))
        service = prefix.removeprefix("LEADRELAY_").rstrip("_").lower()
        if not service:
            return self.common.database_url
        return f"sqlite+aiosqlite:///./{DEFAULT_STATE_DIR}/{service}.db"

    @model_validator(mode="after")
    def _no_placeholder_secrets(self) -> ServiceSettings:
        prefix = str(self.model_config.get("env_prefix", ""))
        for field_name, value in self:
            if isinstance(value, SecretStr):
                require_real_secret(self.common, f"{prefix}{field_name}".upper(), value)
        return self
