"""Calendly webhooks: `Calendly-Webhook-Signature` and `invitee.created`.

Signature, per https://developer.calendly.com/api-docs/overview/webhooks/webhook-signatures :
`Calendly-Webhook-Signature: t=<epoch seconds>,v1=<hex(HMAC-SHA256(signing key, t + "." + raw
body))>`; the docs advise a tolerance window on `t` against replays (they use 3 minutes; ours is
`tolerance_s`). Several `v1=` values are accepted, as in the scheme it follows.

Payload, per https://developer.calendly.com/api-docs/calendly-api/webhooks (the invitee webhook
payload): `{"event": "invitee.created", "created_at", "created_by", "payload": {uri, email, name,
first_name, last_name, text_reminder_number, timezone, questions_and_answers [{question, answer,
position}], tracking {utm_campaign, utm_source, utm_medium, utm_content, utm_term,
salesforce_uuid}, scheduled_event {name, start_time, uri, ...}, rescheduled, status, ...}}`.

A booked meeting is a strong intent signal: the lead carries `meeting_booked` in `signals`.
Calendly sends no event id; the invitee's URI is unique per booking and stable across retries, so
it is the delivery id. Other events (cancellations, no-shows) map to nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, ClassVar

from services.ingest.sources.base import (
    DEFAULT_TOLERANCE_S,
    JSON,
    InboundRequest,
    MappedLead,
    PayloadError,
    SignatureInvalid,
    SourceOptions,
    any_secret_matches,
    check_window,
    hmac_sha256,
    json_object,
    parse_epoch,
    require_header,
)
from services.ingest.sources.mapping import FormField, as_dict, as_list, assemble, parse_time

SIGNATURE = "calendly-webhook-signature"
MEETING_BOOKED = "meeting_booked"


def signature(secret: str, timestamp: str, body: bytes) -> str:
    return hmac_sha256(secret, timestamp.encode() + b"." + body).hex()


def parse_header(value: str) -> tuple[str, list[str]]:
    timestamp, signatures = "", []
    for part in value.split(","):
        key, _, item = part.strip().partition("=")
        if key == "t":
            timestamp = item
        elif key == "v1" and item:
            signatures.append(item.lower())
    if not timestamp or not signatures:
        raise SignatureInvalid(f"{SIGNATURE} must be t=<epoch seconds>,v1=<hex>")
    return timestamp, signatures


class CalendlyAdapter:
    kind: ClassVar[str] = "calendly"
    signs_url: ClassVar[bool] = False
    accepted_content_types: ClassVar[frozenset[str]] = frozenset({JSON})

    def __init__(self, tolerance_s: int = DEFAULT_TOLERANCE_S) -> None:
        self.tolerance_s = tolerance_s

    def verify(self, request: InboundRequest, secrets: Sequence[str], now: datetime) -> None:
        timestamp, given = parse_header(require_header(request, SIGNATURE))
        check_window(parse_epoch(timestamp, SIGNATURE, millis=False), now, self.tolerance_s)
        any_secret_matches(
            secrets, lambda s: signature(s, timestamp, request.body).encode(), [g.encode() for g in given]
        )

    def map(self, request: InboundRequest, options: SourceOptions) -> list[MappedLead]:
        body = json_object(request, self.accepted_content_types)
        if body.get("event") != "invitee.created":
            return []
        invitee = body.get("payload")
        if not isinstance(invitee, dict):
            raise PayloadError("payload", "missing")
        uri = invitee.get("uri")
        if not uri:
            raise PayloadError("payload.uri", "missing")
        return [
            MappedLead(
                lead=assemble(_fields(invitee), options, signals=[MEETING_BOOKED], meta=_meta(invitee)),
                delivery_id=str(uri),
                occurred_at=parse_time(invitee.get("created_at") or body.get("created_at")),
                lead_id=f"calendly:{str(uri).rstrip('/').rsplit('/', 1)[-1]}",
            )
        ]


def _fields(invitee: dict[str, Any]) -> list[FormField]:
    fields = [
        FormField(("email",), "email", invitee.get("email"), "email"),
        FormField(("first_name",), "first_name", invitee.get("first_name"), "first_name"),
        FormField(("last_name",), "last_name", invitee.get("last_name"), "last_name"),
        FormField(("name",), "name", invitee.get("name"), "name"),
        FormField(
            ("text_reminder_number",), "text_reminder_number", invitee.get("text_reminder_number"), "phone"
        ),
    ]
    for qa in as_list(invitee.get("questions_and_answers")):
        if isinstance(qa, dict) and qa.get("question"):
            fields.append(FormField((str(qa["question"]),), str(qa["question"]), qa.get("answer")))
    fields.extend(FormField((str(k),), str(k), v) for k, v in as_dict(invitee.get("tracking")).items())
    return fields


def _meta(invitee: dict[str, Any]) -> dict[str, Any]:
    event = as_dict(invitee.get("scheduled_event"))
    meta = {
        "timezone": invitee.get("timezone"),
        "meeting_name": event.get("name"),
        "meeting_start": event.get("start_time"),
        "rescheduled": invitee.get("rescheduled") or None,
    }
    return {k: v for k, v in meta.items() if v is not None}
