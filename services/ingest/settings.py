"""Ingest service settings: `LEADRELAY_INGEST_*` (plus the shared `LEADRELAY_*` connections)."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings

DEV_ADMIN_KEY = "dev-admin-key"  # a placeholder: refused outside dev (shared/settings.py)


class IngestSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="LEADRELAY_INGEST_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = 8000
    # Key for POST /v1/leads and /v1/activities; a second key allows rotation without downtime.
    api_key: SecretStr = SecretStr("dev-api-key")
    api_key_next: SecretStr | None = None
    # Key for the admin API (POST /v1/erasures): a separate key, so an integration that can post
    # leads cannot erase them. Unset: `dev-admin-key` in dev, and the admin API closed elsewhere.
    admin_api_key: SecretStr | None = None

    @property
    def admin_key(self) -> bytes | None:
        if self.admin_api_key is not None:
            return self.admin_api_key.get_secret_value().encode()
        return DEV_ADMIN_KEY.encode() if self.common.is_dev else None

    @property
    def api_keys(self) -> tuple[bytes, ...]:
        """The keys that open /v1/leads and /v1/activities, as bytes (compared in constant time)."""
        return tuple(
            k.get_secret_value().encode() for k in (self.api_key, self.api_key_next) if k is not None
        )

    max_body_bytes: int = 64 * 1024
    # A repeated delivery inside this span answers 200 with the original ids. Senders retry for
    # up to ~3 days (Standard Webhooks), so keys are kept that long by default.
    # The public base URL vendors call (e.g. https://leads.example.com) when a proxy sits in front:
    # HubSpot signs the URL it called, which the proxy's internal URL would not match.
    public_url: str | None = None
    # Published events kept this long to republish after a broker reset (an in-memory broker that
    # restarted); 0 turns the journal off (a replicated Kafka does not forget what it acknowledged).
    journal_hours: float = Field(default=24, ge=0)
    idempotency_retention_hours: float = Field(default=72, gt=0)
    # How long a client is told to wait before retrying when the broker cannot take the write.
    retry_after_s: int = 2
    # After start-up, collect once and move the surviving heap out of the garbage collector's way
    # (bootstrap.freeze_startup_heap): right for a server process. A process that builds app after
    # app (the in-process tests) turns it off: each collection there walked the growing heap
    # (~80 ms an app), and what each app froze could never be collected after it stopped.
    freeze_heap: bool = True
    # The young generation's collection threshold while the app serves (bootstrap.tune_collector);
    # 0 keeps the interpreter's (700).
    gc_young_threshold: int = Field(default=10_000, ge=0)
