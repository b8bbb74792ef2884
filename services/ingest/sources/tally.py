"""Tally webhooks: `Tally-Signature` and the `FORM_RESPONSE` event.

Signature, per https://tally.so/help/webhooks ("Add a signing secret"): when a signing secret is
set, `Tally-Signature` = base64(HMAC-SHA256(signing secret, raw JSON body)). No timestamp, so
replays are stopped by the `eventId` dedupe alone.

Payload, per the same page ("Example webhook event"): `eventId`, `eventType` ("FORM_RESPONSE"),
`createdAt`, and `data` with `responseId`, `submissionId`, `respondentId`, `formId`, `formName`,
`createdAt` and `fields[]`, each `{key, label, type, value}`; choice types (MULTIPLE_CHOICE,
DROPDOWN, CHECKBOXES, MULTI_SELECT, RANKING) send `value` as a list of option ids with `options[]`
`{id, text}` to resolve them; hidden fields come as type HIDDEN_FIELDS with the hidden field's name
as label (utm_* among them).

`field_map` values may be a field's key (`question_xxx`) or its label. Fields are kept in `custom`
under their label.
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
    hmac_sha256,
    json_object,
    require_header,
)
from services.ingest.sources.mapping import FormField, as_list, assemble, parse_time

SIGNATURE = "tally-signature"
_HINTS = {"INPUT_EMAIL": "email", "INPUT_PHONE_NUMBER": "phone"}


def signature(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac_sha256(secret, body)).decode()


def field_value(field: dict[str, Any]) -> Any:
    """Option ids resolved to their text; a single choice becomes a plain string."""
    value = field.get("value")
    options = {
        o["id"]: o.get("text")
        for o in as_list(field.get("options"))
        if isinstance(o, dict) and isinstance(o.get("id"), str)
    }
    if isinstance(value, list) and options:
        value = [options.get(v, v) if isinstance(v, str) else v for v in value]
        if len(value) == 1 and field.get("type") in ("MULTIPLE_CHOICE", "DROPDOWN"):
            return value[0]
    return value


class TallyAdapter:
    kind: ClassVar[str] = "tally"
    signs_url: ClassVar[bool] = False
    accepted_content_types: ClassVar[frozenset[str]] = frozenset({JSON})

    def __init__(self, tolerance_s: int = DEFAULT_TOLERANCE_S) -> None:
        self.tolerance_s = tolerance_s  # unused: the scheme has no timestamp

    def verify(self, request: InboundRequest, secrets: Sequence[str], now: datetime) -> None:
        given = require_header(request, SIGNATURE)
        any_secret_matches(secrets, lambda s: signature(s, request.body).encode(), [given.encode()])

    def map(self, request: InboundRequest, options: SourceOptions) -> list[MappedLead]:
        payload = json_object(request, self.accepted_content_types)
        if payload.get("eventType") != "FORM_RESPONSE":
            return []
        data = payload.get("data")
        if not isinstance(data, dict) or not isinstance(data.get("fields"), list):
            raise PayloadError("data.fields", "missing")
        event_id = payload.get("eventId")
        if not event_id:
            raise PayloadError("eventId", "missing")
        fields = [
            _field(f) for f in data["fields"] if isinstance(f, dict) and (f.get("key") or f.get("label"))
        ]
        meta = {"tally_form_id": data.get("formId"), "tally_form_name": data.get("formName")}
        response_id = data.get("responseId") or data.get("submissionId")
        return [
            MappedLead(
                lead=assemble(fields, options, meta={k: v for k, v in meta.items() if v is not None}),
                delivery_id=str(event_id),
                occurred_at=parse_time(data.get("createdAt") or payload.get("createdAt")),
                lead_id=f"tally:{response_id}" if response_id else None,
            )
        ]


def _field(field: dict[str, Any]) -> FormField:
    key, label = str(field.get("key") or ""), str(field.get("label") or "")
    ids = tuple(i for i in (key, label) if i)
    return FormField(ids, label or key, field_value(field), _HINTS.get(str(field.get("type"))))
