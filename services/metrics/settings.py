"""Metrics service settings: `LEADRELAY_METRICS_*` (plus the shared `LEADRELAY_*` connections)."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class MetricsSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="LEADRELAY_METRICS_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = 8002
    group_id: str = "leadrelay-metrics"
    max_attempts: int = 5
