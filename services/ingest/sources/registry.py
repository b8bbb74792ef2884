"""Every adapter by kind, and one way to build and run any of them.

`build_adapter(kind, options)` needs no config-file types, so the endpoint, the demo traffic
generator and the tests all build adapters the same way.
"""

from __future__ import annotations

from services.ingest.sources.base import InboundRequest, MappedLead, SourceAdapter, SourceOptions
from services.ingest.sources.calendly import CalendlyAdapter
from services.ingest.sources.facebook import FacebookAdapter, LeadFetcher
from services.ingest.sources.hubspot import HubSpotAdapter
from services.ingest.sources.standard import StandardAdapter, webhook_for
from services.ingest.sources.tally import TallyAdapter
from services.ingest.sources.typeform import TypeformAdapter
from services.ingest.sources.webflow import WebflowAdapter

ADAPTERS: dict[str, type[SourceAdapter]] = {
    adapter.kind: adapter
    for adapter in (
        HubSpotAdapter,
        TypeformAdapter,
        TallyAdapter,
        WebflowAdapter,
        CalendlyAdapter,
        FacebookAdapter,
        StandardAdapter,
    )
}


def build_adapter(kind: str, options: SourceOptions | None = None) -> SourceAdapter:
    try:
        adapter = ADAPTERS[kind]
    except KeyError:
        raise ValueError(f"unknown source kind {kind!r}; use one of: {', '.join(sorted(ADAPTERS))}") from None
    return adapter(tolerance_s=(options or SourceOptions()).tolerance_s)


def check_secret(kind: str, secret: str) -> None:
    """ValueError when `secret` cannot work for `kind`: for config validation at start, since a
    malformed secret found at request time can only turn into errors for the vendor."""
    if not secret:
        raise ValueError("a source secret may not be empty")
    if kind == "standard":
        webhook_for(secret)


async def map_request(
    adapter: SourceAdapter,
    request: InboundRequest,
    options: SourceOptions,
    graph: LeadFetcher | None = None,
) -> list[MappedLead]:
    """`map`, or for Facebook `map_async` with the Graph client (which must then be given)."""
    if isinstance(adapter, FacebookAdapter):
        if graph is None:
            raise ValueError("a facebook source needs a Graph API client (facebook_graph.GraphClient)")
        return await adapter.map_async(request, options, graph)
    return adapter.map(request, options)
