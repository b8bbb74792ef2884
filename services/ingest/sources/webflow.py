"""Webflow webhooks: `x-webflow-signature` and the `form_submission` trigger.

Signature, per https://developers.webflow.com/data/docs/working-with-webhooks ("Validating request
signatures") and https://developers.webflow.com/data/changelog/webhook-signatures : webhooks created
by an OAuth app (or by API) carry `x-webflow-timestamp` (epoch milliseconds) and
`x-webflow-signature` = hex(HMAC-SHA256(client secret / webhook secret, timestamp + ":" + raw
body)); reject requests older than 5 minutes. Webhooks made in the site dashboard are unsigned, and
this adapter refuses them (no header, no lead).

Payload, per the same page: `{"triggerType": "form_submission", "payload": {name, siteId, data
{field name: value}, schema [{fieldName, fieldType, fieldElementId}], submittedAt, id, formId,
formElementId, pageId, publishedPath, pageUrl}}`. The submission `id` is the delivery id (Webflow
sends no event id; the submission's id is stable across its retries).

`field_map` values are the form's field names (or their `fieldElementId`).
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
    SourceOptions,
    any_secret_matches,
    check_window,
    hmac_sha256,
    json_object,
    parse_epoch,
    require_header,
)
from services.ingest.sources.mapping import FormField, as_dict, as_list, assemble, parse_time

SIGNATURE = "x-webflow-signature"
TIMESTAMP = "x-webflow-timestamp"
_HINTS = {"FormEmail": "email", "FormPhone": "phone"}


def signature(secret: str, timestamp: str, body: bytes) -> str:
    return hmac_sha256(secret, timestamp.encode() + b":" + body).hex()


class WebflowAdapter:
    kind: ClassVar[str] = "webflow"
    signs_url: ClassVar[bool] = False
    accepted_content_types: ClassVar[frozenset[str]] = frozenset({JSON})

    def __init__(self, tolerance_s: int = DEFAULT_TOLERANCE_S) -> None:
        self.tolerance_s = tolerance_s

    def verify(self, request: InboundRequest, secrets: Sequence[str], now: datetime) -> None:
        given = require_header(request, SIGNATURE).lower()
        timestamp = require_header(request, TIMESTAMP)
        check_window(parse_epoch(timestamp, TIMESTAMP, millis=True), now, self.tolerance_s)
        any_secret_matches(
            secrets, lambda s: signature(s, timestamp, request.body).encode(), [given.encode()]
        )

    def map(self, request: InboundRequest, options: SourceOptions) -> list[MappedLead]:
        body = json_object(request, self.accepted_content_types)
        if body.get("triggerType") != "form_submission":
            return []
        submission = body.get("payload")
        if not isinstance(submission, dict) or not isinstance(submission.get("data"), dict):
            raise PayloadError("payload.data", "missing")
        submission_id = submission.get("id")
        if not submission_id:
            raise PayloadError("payload.id", "missing")
        meta = {
            "webflow_form_name": submission.get("name"),
            "webflow_form_id": submission.get("formId"),
            "webflow_page_url": submission.get("pageUrl"),
        }
        return [
            MappedLead(
                lead=assemble(_fields(submission), options, meta={k: v for k, v in meta.items() if v}),
                delivery_id=str(submission_id),
                occurred_at=parse_time(submission.get("submittedAt")),
                lead_id=f"webflow:{submission_id}",
            )
        ]


def _fields(submission: dict[str, Any]) -> list[FormField]:
    schema = {
        s["fieldName"]: s
        for s in as_list(submission.get("schema"))
        if isinstance(s, dict) and isinstance(s.get("fieldName"), str)
    }
    fields = []
    for name, value in submission["data"].items():
        info = as_dict(schema.get(name))
        ids = tuple(str(i) for i in (name, info.get("fieldElementId")) if i)
        fields.append(FormField(ids, str(name), value, _HINTS.get(str(info.get("fieldType")))))
    return fields
