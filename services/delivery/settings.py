"""Deliverer settings: `LEADRELAY_DELIVERY_*` (plus the shared `LEADRELAY_*` connections)."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class DeliverySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="LEADRELAY_DELIVERY_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = 8003
    group_id: str = "leadrelay-delivery"
    max_attempts: int = 5
    # Key for /v1/deliveries (list, show, replay); a second key allows rotation without downtime.
    api_key: SecretStr = SecretStr("dev-api-key")
    api_key_next: SecretStr | None = None
    # Longest wait between two looks at the queue when nothing wakes the dispatcher (a commit
    # or a finished send wakes it at once).
    poll_interval_s: float = Field(default=1.0, gt=0)
    # How long a claimed message stays this instance's without a renewal (renewed every third of
    # it while the instance works): after a crash, another instance takes the work over this late.
    lease_s: float = Field(default=30.0, ge=1)
    # Delivered messages (and their attempts) are purged this long after delivery; dead letters
    # stay until replayed or purged by hand (`leadrelay deliveries purge`).
    retention_days: float = Field(default=30.0, gt=0)
    purge_interval_s: float = Field(default=3600.0, gt=0)
