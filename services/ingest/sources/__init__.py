"""Form-source adapters: verify a vendor's webhook signature, then map its payload to leads.

Usage (what `POST /v1/sources/{source}/webhooks` does):

    adapter = build_adapter(kind, options)
    adapter.verify(request, secrets, now)            # SignatureError -> 401
    leads = await map_request(adapter, request, options, graph)   # PayloadError -> 422
"""

from services.ingest.sources.base import (
    InboundRequest,
    MappedLead,
    PayloadError,
    SignatureError,
    SignatureInvalid,
    SignatureMissing,
    SignatureStale,
    SourceAdapter,
    SourceOptions,
)
from services.ingest.sources.facebook import SubscriptionRefused, verify_subscription
from services.ingest.sources.facebook_graph import GraphClient, GraphError
from services.ingest.sources.registry import ADAPTERS, build_adapter, check_secret, map_request

__all__ = [
    "ADAPTERS",
    "GraphClient",
    "GraphError",
    "InboundRequest",
    "MappedLead",
    "PayloadError",
    "SignatureError",
    "SignatureInvalid",
    "SignatureMissing",
    "SignatureStale",
    "SourceAdapter",
    "SourceOptions",
    "SubscriptionRefused",
    "build_adapter",
    "check_secret",
    "map_request",
    "verify_subscription",
]
