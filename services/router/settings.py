"""Router service settings: `LEADRELAY_ROUTER_*` (plus the shared `LEADRELAY_*` connections)."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class RouterSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="LEADRELAY_ROUTER_", extra="ignore")

    # Health and Prometheus endpoint; the router has no public API.
    host: str = "127.0.0.1"
    port: int = 8001
    group_id: str = "leadrelay-router"
    max_attempts: int = 5
    # Outbox rows kept (published) this long, to republish after a broker reset (an in-memory
    # broker that restarted forgets the handoffs no sales tool has read yet).
    republish_window_hours: float = 24
