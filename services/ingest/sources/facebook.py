"""Facebook (Meta) Lead Ads: subscription check, `X-Hub-Signature-256`, `leadgen` changes.

Per https://developers.facebook.com/docs/graph-api/webhooks/getting-started :
- subscribing: Meta sends `GET ?hub.mode=subscribe&hub.challenge=<n>&hub.verify_token=<token>`;
  answer the challenge when the verify token is ours (`verify_subscription`).
- events: `X-Hub-Signature-256: sha256=<hex(HMAC-SHA256(app secret, raw body))>`. The scheme is
  GitHub's; GitHub's published vector is in the tests. No timestamp: replays are stopped by the
  leadgen id dedupe.

Per https://developers.facebook.com/docs/marketing-api/guides/lead-ads/retrieving (webhooks):
the body is `{"object": "page", "entry": [{"id", "time", "changes": [{"field": "leadgen",
"value": {"leadgen_id", "page_id", "form_id", "ad_id", "adgroup_id", "created_time"}}]}]}`: ids
only. So `map_async` reads each lead's `field_data` from the Graph API (`facebook_graph`) and maps
that; the synchronous `map` refuses. The leadgen id is the delivery id and, prefixed, the lead id.
`field_map` values are the form's question keys (`email`, `full_name`, custom keys).
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Protocol

from services.ingest.sources.base import (
    DEFAULT_TOLERANCE_S,
    JSON,
    InboundRequest,
    MappedLead,
    PayloadError,
    SignatureInvalid,
    SourceOptions,
    any_secret_matches,
    hmac_sha256,
    parse_json,
    require_content_type,
    require_header,
)
from services.ingest.sources.mapping import FormField, as_dict, as_list, assemble, parse_time

SIGNATURE = "x-hub-signature-256"


class LeadFetcher(Protocol):
    async def fetch_lead(self, leadgen_id: str) -> dict[str, Any]: ...


class SubscriptionRefused(Exception):
    """The GET subscription check is not ours: answer 403."""


def verify_subscription(query: Mapping[str, str], verify_token: str) -> str:
    """The `hub.challenge` to echo (as text/plain, 200) when mode and verify token match."""
    mode, token = query.get("hub.mode", ""), query.get("hub.verify_token", "")
    challenge = query.get("hub.challenge", "")
    if mode != "subscribe" or not challenge or not verify_token:
        raise SubscriptionRefused("not a subscription check")
    if not hmac.compare_digest(token.encode(), verify_token.encode()):
        raise SubscriptionRefused("verify token does not match")
    return challenge


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac_sha256(secret, body).hex()


@dataclass(frozen=True)
class LeadgenRef:
    leadgen_id: str
    page_id: str | None
    form_id: str | None
    ad_id: str | None
    created_time: Any


def leadgen_refs(request: InboundRequest) -> list[LeadgenRef]:
    body = parse_json(request)
    if not isinstance(body, dict) or body.get("object") != "page":
        return []
    refs = []
    for entry in as_list(body.get("entry")):
        for change in as_list(as_dict(entry).get("changes")):
            if not isinstance(change, dict) or change.get("field") != "leadgen":
                continue
            value = change.get("value")
            if not isinstance(value, dict):
                raise PayloadError("entry.changes.value", "missing")
            if not value.get("leadgen_id"):
                raise PayloadError("entry.changes.value.leadgen_id", "missing")
            ids = {
                k: str(value[k]) if value.get(k) is not None else None
                for k in ("page_id", "form_id", "ad_id")
            }
            refs.append(LeadgenRef(str(value["leadgen_id"]), **ids, created_time=value.get("created_time")))
    return refs


def lead_fields(lead: Mapping[str, Any]) -> list[FormField]:
    fields = []
    for item in as_list(lead.get("field_data")):
        if isinstance(item, dict) and item.get("name"):
            values = as_list(item.get("values"))
            value = values[0] if len(values) == 1 else values
            fields.append(FormField((str(item["name"]),), str(item["name"]), value))
    return fields


class FacebookAdapter:
    kind: ClassVar[str] = "facebook"
    signs_url: ClassVar[bool] = False
    accepted_content_types: ClassVar[frozenset[str]] = frozenset({JSON})

    def __init__(self, tolerance_s: int = DEFAULT_TOLERANCE_S) -> None:
        self.tolerance_s = tolerance_s  # unused: the scheme has no timestamp

    def verify(self, request: InboundRequest, secrets: Sequence[str], now: datetime) -> None:
        given = require_header(request, SIGNATURE).lower()
        if not given.startswith("sha256="):
            raise SignatureInvalid(f"{SIGNATURE} must start with sha256=")
        any_secret_matches(secrets, lambda s: signature(s, request.body).encode(), [given.encode()])

    def map(self, request: InboundRequest, options: SourceOptions) -> list[MappedLead]:
        raise NotImplementedError("facebook leads are read from the Graph API: call map_async")

    async def map_async(
        self, request: InboundRequest, options: SourceOptions, graph: LeadFetcher
    ) -> list[MappedLead]:
        """Raises facebook_graph.GraphError when the Graph API does not give a lead."""
        require_content_type(request, self.accepted_content_types)
        mapped = []
        for ref in leadgen_refs(request):
            lead = await graph.fetch_lead(ref.leadgen_id)
            meta = {"facebook_page_id": ref.page_id, "facebook_form_id": ref.form_id or lead.get("form_id")}
            meta["facebook_ad_id"] = ref.ad_id or lead.get("ad_id")
            mapped.append(
                MappedLead(
                    lead=assemble(lead_fields(lead), options, meta={k: v for k, v in meta.items() if v}),
                    delivery_id=ref.leadgen_id,
                    occurred_at=parse_time(lead.get("created_time") or ref.created_time),
                    lead_id=f"facebook:{ref.leadgen_id}",
                )
            )
        return mapped
