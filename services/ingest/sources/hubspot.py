"""HubSpot webhooks API: signature v3 and contact subscription events.

Signature (v3), per https://developers.hubspot.com/docs/apps/developer-platform/build-apps/authentication/request-validation
and https://developers.hubspot.com/changelog/introducing-version-3-of-webhook-signatures:
`X-HubSpot-Signature-v3` = base64(HMAC-SHA256(client secret, method + URI + raw body + timestamp)),
`X-HubSpot-Request-Timestamp` in epoch milliseconds, reject when older than 5 minutes. In the URI,
the percent-encodings %3A %2F %3F %40 %21 %24 %27 %28 %29 %2A %2C %3B are decoded first (the docs'
table); nothing else is. The official SDK's test vectors (HubSpot/hubspot-api-python
tests/spec/utils/test_signature.py, hubspot-api-ruby spec/helpers/signature_spec.rb) are in the
tests. The older v1/v2 headers are ignored: they carry no timestamp, so they cannot stop a replay.

Payload, per https://developers.hubspot.com/docs/api/webhooks (webhooks API): a JSON array of up to
100 events, each with eventId, subscriptionId, portalId, appId, occurredAt (ms), subscriptionType
(`contact.creation`, `contact.propertyChange`, ...), attemptNumber, objectId, and for property
changes propertyName / propertyValue.

Mapping decision: events carry the contact's id, not the contact. A lead is made for each contact
whose `email` property arrives in the batch (a `contact.propertyChange` subscription on `email`,
plus on firstname, company... for more). Its delivery id is that email event's eventId, its lead id
`hubspot:<objectId>`. Contacts without an email in the batch are skipped; a batch in which no
contact has one raises PayloadError naming `email`, so a missing subscription shows up as a 422
in HubSpot's delivery log instead of leads silently not arriving. Other object types and
deletions map to nothing.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from datetime import datetime
from typing import Any, ClassVar

from services.ingest.sources.base import (
    DEFAULT_TOLERANCE_S,
    JSON,
    InboundRequest,
    MappedLead,
    PayloadError,
    SourceOptions,
    any_secret_matches,
    check_window,
    hmac_sha256,
    parse_epoch,
    parse_json,
    require_content_type,
    require_header,
)
from services.ingest.sources.mapping import FormField, assemble, parse_time

SIGNATURE = "x-hubspot-signature-v3"
TIMESTAMP = "x-hubspot-request-timestamp"
_DECODE = {
    "%3A": ":",
    "%2F": "/",
    "%3F": "?",
    "%40": "@",
    "%21": "!",
    "%24": "$",
    "%27": "'",
    "%28": "(",
    "%29": ")",
    "%2A": "*",
    "%2C": ",",
    "%3B": ";",
}
_CONTACT_EVENTS = frozenset({"contact.creation", "contact.propertyChange", "object.creation"})
_CONTACT_TYPE_ID = "0-1"  # objectTypeId of contacts in the newer object.* events


def decode_uri(url: str) -> str:
    """Decode only the characters HubSpot's docs list, in either letter case."""
    out: list[str] = []
    i = 0
    while i < len(url):
        chunk = url[i : i + 3].upper()
        if url[i] == "%" and chunk in _DECODE:
            out.append(_DECODE[chunk])
            i += 3
        else:
            out.append(url[i])
            i += 1
    return "".join(out)


def signature_v3(secret: str, method: str, url: str, body: bytes, timestamp: str) -> str:
    message = method.upper().encode() + decode_uri(url).encode() + body + timestamp.encode()
    return base64.b64encode(hmac_sha256(secret, message)).decode()


class HubSpotAdapter:
    kind: ClassVar[str] = "hubspot"
    signs_url: ClassVar[bool] = True  # v3 signs the URL the vendor called
    accepted_content_types: ClassVar[frozenset[str]] = frozenset({JSON})

    def __init__(self, tolerance_s: int = DEFAULT_TOLERANCE_S) -> None:
        self.tolerance_s = tolerance_s

    def verify(self, request: InboundRequest, secrets: Sequence[str], now: datetime) -> None:
        given = require_header(request, SIGNATURE)
        timestamp = require_header(request, TIMESTAMP)
        check_window(parse_epoch(timestamp, TIMESTAMP, millis=True), now, self.tolerance_s)
        message = (request.method.upper(), request.url, request.body, timestamp)
        any_secret_matches(secrets, lambda s: signature_v3(s, *message).encode(), [given.encode()])

    def map(self, request: InboundRequest, options: SourceOptions) -> list[MappedLead]:
        require_content_type(request, self.accepted_content_types)
        events = parse_json(request)
        if not isinstance(events, list) or not all(isinstance(e, dict) for e in events):
            raise PayloadError("body", "expected the webhooks API's JSON array of events")
        contacts: dict[str, list[dict[str, Any]]] = {}
        for event in events:
            if _is_contact_event(event) and event.get("objectId") is not None:
                contacts.setdefault(str(event["objectId"]), []).append(event)
        leads = [lead for oid, evs in contacts.items() if (lead := _lead(oid, evs, options))]
        if contacts and not leads:
            raise PayloadError(
                "email",
                "no contact's email is in this batch (HubSpot events carry objectId only); "
                "subscribe to contact.propertyChange for the email property",
            )
        return leads


def _is_contact_event(event: dict[str, Any]) -> bool:
    kind = str(event.get("subscriptionType") or event.get("eventType") or "")
    if kind.startswith("object."):
        return kind in _CONTACT_EVENTS and event.get("objectTypeId") == _CONTACT_TYPE_ID
    return kind in _CONTACT_EVENTS


def _occurred_at(event: dict[str, Any]) -> float:
    value = event.get("occurredAt")
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


def _lead(object_id: str, events: list[dict[str, Any]], options: SourceOptions) -> MappedLead | None:
    properties: dict[str, tuple[Any, dict[str, Any]]] = {}
    for event in sorted(events, key=_occurred_at):  # the latest value wins
        name = event.get("propertyName")
        if isinstance(name, str) and event.get("propertyValue") not in (None, ""):
            properties[name] = (event["propertyValue"], event)
    email_field = options.field_map.get("email", "email")
    if email_field not in properties:
        return None
    _, email_event = properties[email_field]
    if email_event.get("eventId") is None:
        raise PayloadError("eventId", "missing on the event that carries the email")
    fields = [FormField((name,), name, value) for name, (value, _) in properties.items()]
    meta = {"hubspot_portal_id": email_event.get("portalId"), "hubspot_object_id": object_id}
    return MappedLead(
        lead=assemble(fields, options, meta={k: v for k, v in meta.items() if v is not None}),
        delivery_id=str(email_event.get("eventId")),
        occurred_at=parse_time(email_event.get("occurredAt")),
        lead_id=f"hubspot:{object_id}",
    )
