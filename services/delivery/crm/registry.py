"""The CRM adapters the config asks for. A new CRM adds its block to `CrmConfig` and a line here."""

from __future__ import annotations

import httpx

from services.delivery.clock import Clock
from services.delivery.crm.base import CrmAdapter
from services.delivery.crm.hubspot import HubSpotOwnerAdapter
from shared.config import LeadRelayConfig


def crm_adapters(config: LeadRelayConfig, client: httpx.AsyncClient, clock: Clock) -> list[CrmAdapter]:
    adapters: list[CrmAdapter] = []
    if config.crm.hubspot is not None:
        sources = {name for name, source in config.sources.items() if source.kind == "hubspot"}
        adapters.append(HubSpotOwnerAdapter(config.crm.hubspot, sources, client, clock))
    return adapters
