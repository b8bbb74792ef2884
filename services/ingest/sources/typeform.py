"""Typeform webhooks: `Typeform-Signature` and the `form_response` payload.

Signature, per https://www.typeform.com/developers/webhooks/secure-your-webhooks/ :
`Typeform-Signature: sha256=<base64(HMAC-SHA256(webhook secret, raw body))>`. There is no
timestamp in the scheme, so replays are stopped by the delivery id (`event_id`) dedupe alone.

Payload, per https://www.typeform.com/developers/webhooks/example-payload/ and
https://www.typeform.com/developers/responses/JSON-response-explanation/ : `event_id`,
`event_type` ("form_response"), and `form_response` with `form_id`, `token` (the response id),
`submitted_at`, `definition.fields` (id, ref, title, type), `answers` (each `{type, <type>: value,
field: {id, ref, type}}` where type is text, email, phone_number, number, boolean, date, url,
file_url, choice {label, other}, choices {labels, other}, payment...), `hidden` (hidden fields,
the usual home of utm_*) and `calculated.score`.

`field_map` values are field refs (ids and question titles match too). The score is kept in
`custom["score"]`, since the canonical lead has no field for a vendor's own score.
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
    SignatureInvalid,
    SourceOptions,
    any_secret_matches,
    hmac_sha256,
    json_object,
    require_header,
)
from services.ingest.sources.mapping import FormField, as_dict, as_list, assemble, parse_time

SIGNATURE = "typeform-signature"
_HINTS = {"email": "email", "phone_number": "phone"}


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + base64.b64encode(hmac_sha256(secret, body)).decode()


def answer_value(answer: dict[str, Any]) -> Any:
    """The value of one answer, whatever its type: Typeform keys it by the type's name."""
    kind = answer.get("type")
    value = answer.get(kind) if isinstance(kind, str) else None
    if kind == "choice" and isinstance(value, dict):
        return value.get("label") or value.get("other")
    if kind == "choices" and isinstance(value, dict):
        labels = as_list(value.get("labels"))
        return labels + ([value["other"]] if value.get("other") else [])
    return value


class TypeformAdapter:
    kind: ClassVar[str] = "typeform"
    signs_url: ClassVar[bool] = False
    accepted_content_types: ClassVar[frozenset[str]] = frozenset({JSON})

    def __init__(self, tolerance_s: int = DEFAULT_TOLERANCE_S) -> None:
        self.tolerance_s = tolerance_s  # unused: the scheme has no timestamp

    def verify(self, request: InboundRequest, secrets: Sequence[str], now: datetime) -> None:
        given = require_header(request, SIGNATURE)
        if not given.startswith("sha256="):
            raise SignatureInvalid(f"{SIGNATURE} must start with sha256=")
        any_secret_matches(secrets, lambda s: signature(s, request.body).encode(), [given.encode()])

    def map(self, request: InboundRequest, options: SourceOptions) -> list[MappedLead]:
        payload = json_object(request, self.accepted_content_types)
        if payload.get("event_type") != "form_response":
            return []  # not a submission: nothing to capture
        response = payload.get("form_response")
        if not isinstance(response, dict):
            raise PayloadError("form_response", "missing")
        event_id = payload.get("event_id")
        if not event_id:
            raise PayloadError("event_id", "missing")
        fields = _fields(response)
        meta: dict[str, Any] = {"typeform_form_id": response.get("form_id")}
        score = as_dict(response.get("calculated")).get("score")
        if score is not None:
            meta["score"] = score
        token = response.get("token")
        return [
            MappedLead(
                lead=assemble(fields, options, meta={k: v for k, v in meta.items() if v is not None}),
                delivery_id=str(event_id),
                occurred_at=parse_time(response.get("submitted_at")),
                lead_id=f"typeform:{token}" if token else None,
            )
        ]


def _fields(response: dict[str, Any]) -> list[FormField]:
    titles = {
        f["id"]: f.get("title")
        for f in as_list(as_dict(response.get("definition")).get("fields"))
        if isinstance(f, dict) and isinstance(f.get("id"), str) and f.get("title")
    }
    fields: list[FormField] = []
    for answer in as_list(response.get("answers")):
        if not isinstance(answer, dict):
            continue
        field = as_dict(answer.get("field"))
        ref, field_id = field.get("ref"), field.get("id")
        title = titles.get(field_id) if isinstance(field_id, str) else None
        ids = tuple(str(i) for i in (ref, field_id, title) if isinstance(i, str | int) and i)
        if not ids:
            continue
        hint = _HINTS.get(str(answer.get("type"))) or _HINTS.get(str(field.get("type")))
        fields.append(FormField(ids, ids[0], answer_value(answer), hint))
    fields.extend(FormField((str(k),), str(k), v) for k, v in as_dict(response.get("hidden")).items())
    return fields
