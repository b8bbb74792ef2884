"""Metrics service settings: `LEADRELAY_METRICS_*` (plus the shared `LEADRELAY_*` connections)."""

from __future__ import annotations

from pydantic import SecretStr
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class MetricsSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="LEADRELAY_METRICS_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = 8002
    group_id: str = "leadrelay-metrics"
    max_attempts: int = 5
    # The first dashboard admin, created at start when no admin exists. The default is a placeholder,
    # so it works in dev only: any other environment refuses to start until a real one is set.
    admin_user: str = "admin"
    admin_password: SecretStr = SecretStr("changeme")
    # An integration key from the environment (viewer role), e.g. for a BI tool or the e2e tests;
    # more keys, with either role, are made and revoked with `leadrelay keys`.
    api_key: SecretStr | None = None
    session_hours: float = 12.0
