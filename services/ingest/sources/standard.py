"""Standard Webhooks: any JSON form tool, connected by a declarative field mapping.

Signature, per the spec
https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md :
headers `webhook-id`, `webhook-timestamp` (epoch seconds) and `webhook-signature` (space-separated
`v1,<base64>` entries, any of which may match), the signature being base64(HMAC-SHA256(base64-decoded
`whsec_` secret, id + "." + timestamp + "." + body)), and a ±5 minute window. Signing uses the
`standardwebhooks` library (its `Webhook.sign`); the window and the comparison are done here
because the library reads the wall clock itself, and verification must use the caller's `now`.
The spec's published vector (libraries/python/tests/test_webhooks.py `test_sign_function`) is in the
tests.

Mapping: `field_map` sends canonical fields to dotted paths in the body (`data.email`,
`data.contact.first_name`, `items.0.company`), plus envelope paths `lead_id`, `occurred_at`,
`signals` (a string or a list of strings) and `utm` (an object). Without a mapping, the keys of
`data` (or of the body when there is no `data` object) are matched by well-known names, and
`timestamp` gives the event time. The delivery id is `webhook-id`, which the spec keeps the same
across retries. Besides JSON, `application/x-www-form-urlencoded` bodies are accepted: generic form
posts arrive that way, and the mapping then reads the form's flat keys.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Sequence
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, ClassVar, NamedTuple
from urllib.parse import parse_qsl

from standardwebhooks.webhooks import Webhook

from services.ingest.sources.base import (
    DEFAULT_TOLERANCE_S,
    FORM,
    JSON,
    MAPPABLE_FIELDS,
    InboundRequest,
    MappedLead,
    PayloadError,
    SignatureInvalid,
    SourceOptions,
    any_secret_matches,
    check_window,
    parse_epoch,
    parse_json,
    require_content_type,
    require_header,
)
from services.ingest.sources.mapping import FormField, assemble, parse_time

ID, TIMESTAMP, SIGNATURE = "webhook-id", "webhook-timestamp", "webhook-signature"


@lru_cache(maxsize=64)
def webhook_for(secret: str) -> Webhook:
    """The library's signer for a `whsec_` secret; ValueError when the secret is malformed."""
    try:
        return Webhook(secret)
    except Exception as exc:  # binascii.Error, EmptyWebhookSecretError, RuntimeError from the library
        # A configuration error, not a forgery: say so without echoing the secret.
        raise ValueError("a standard source secret must be whsec_<base64>") from exc


def _mac(secret: str, msg_id: str, timestamp: int, body: bytes) -> bytes:
    """The raw HMAC `Webhook.sign` base64-encodes, over the same bytes (`id.timestamp.body`), with
    the key the library decoded from the secret: one C call, where verifying through `sign` cost
    a string round trip of the body, a base64 encode and a decode per secret (the spec's vector,
    tests/unit/test_sources_signatures.py, holds both to the same answer)."""
    mac = _keyed(secret).copy()
    mac.update(f"{msg_id}.{timestamp}.".encode())
    mac.update(body)
    return mac.digest()


@lru_cache(maxsize=64)
def _keyed(secret: str) -> hmac.HMAC:
    """HMAC-SHA256 with the key already absorbed, copied per request: `hmac.digest` looked the
    digest up by name and set the key up again on every call."""
    return hmac.new(webhook_for(secret)._whsecret, digestmod=hashlib.sha256)


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """`v1,<base64>` for these inputs, computed by the standardwebhooks library."""
    signed_at = datetime.fromtimestamp(timestamp, UTC)
    return str(webhook_for(secret).sign(msg_id=msg_id, timestamp=signed_at, data=body.decode("utf-8")))


def _given(header: str) -> list[bytes]:
    signatures = []
    for entry in header.split():
        version, _, value = entry.partition(",")
        if version != "v1":
            continue  # other versions are for other schemes; the spec says to skip them
        try:
            signatures.append(base64.b64decode(value, validate=True))
        except (binascii.Error, ValueError):
            continue
    return signatures


def _get(root: Any, parts: tuple[str, ...]) -> Any:
    """The value at a dotted path (`data.email` as its parts, list indexes as digits), or None."""
    node = root
    for part in parts:
        if isinstance(node, dict):
            node = node.get(part)
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    return node


class StandardAdapter:
    kind: ClassVar[str] = "standard"
    signs_url: ClassVar[bool] = False
    accepted_content_types: ClassVar[frozenset[str]] = frozenset({JSON, FORM})

    def __init__(self, tolerance_s: int = DEFAULT_TOLERANCE_S) -> None:
        self.tolerance_s = tolerance_s

    def verify(self, request: InboundRequest, secrets: Sequence[str], now: datetime) -> None:
        msg_id = require_header(request, ID)
        timestamp = require_header(request, TIMESTAMP)
        given = _given(require_header(request, SIGNATURE))
        signed_at = parse_epoch(timestamp, TIMESTAMP, millis=False)
        check_window(signed_at, now, self.tolerance_s)
        try:
            request.body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise SignatureInvalid("body is not UTF-8") from exc

        seconds = int(timestamp)
        any_secret_matches(secrets, lambda secret: _mac(secret, msg_id, seconds, request.body), given)

    def map(self, request: InboundRequest, options: SourceOptions) -> list[MappedLead]:
        require_content_type(request, self.accepted_content_types)
        delivery_id = request.headers.get(ID)
        if not delivery_id:
            raise PayloadError(ID, "missing header")
        root = _body(request)
        reader = _reader(tuple(options.field_map.items()))
        data = root.get("data")
        scanned: dict[str, Any] = data if isinstance(data, dict) else root
        prefix = "data." if scanned is not root else ""
        fields = [FormField((path,), path, _get(root, parts)) for path, parts in reader.mapped]
        # Keys of a JSON object (or of a parsed form) are strings already.
        fields += [
            FormField((key, prefix + key), key, value)
            for key, value in scanned.items()
            if prefix + key not in reader.mapped_paths and key not in reader.named
        ]
        signals = _get(root, reader.signals) if reader.signals else None
        utm = _get(root, reader.utm) if reader.utm else None
        if isinstance(utm, dict):
            fields += [FormField((str(k),), str(k), v) for k, v in utm.items()]
        lead_id = _get(root, reader.lead_id) if reader.lead_id else None
        return [
            MappedLead(
                lead=assemble(fields, options, signals=_signals(signals)),
                delivery_id=delivery_id,
                occurred_at=parse_time(_get(root, reader.occurred_at)),
                lead_id=str(lead_id) if isinstance(lead_id, str | int) and lead_id != "" else None,
            )
        ]


class _Reader(NamedTuple):
    """What a source's field map reads, resolved once per map (not per delivery): the paths of
    lead fields in order with their parts, every path it names, and the envelope paths."""

    mapped: tuple[tuple[str, tuple[str, ...]], ...]
    mapped_paths: frozenset[str]
    named: frozenset[str]
    signals: tuple[str, ...] | None
    utm: tuple[str, ...] | None
    lead_id: tuple[str, ...] | None
    occurred_at: tuple[str, ...]


@lru_cache(maxsize=256)
def _reader(field_map: tuple[tuple[str, str], ...]) -> _Reader:
    paths = dict(field_map)
    mapped = frozenset(path for canonical, path in field_map if canonical in MAPPABLE_FIELDS)

    def parts(name: str) -> tuple[str, ...] | None:
        return tuple(paths[name].split(".")) if name in paths else None

    return _Reader(
        mapped=tuple((path, tuple(path.split("."))) for path in sorted(mapped)),
        mapped_paths=mapped,
        named=frozenset(paths.values()),
        signals=parts("signals"),
        utm=parts("utm"),
        lead_id=parts("lead_id"),
        occurred_at=tuple(paths.get("occurred_at", "timestamp").split(".")),
    )


def _body(request: InboundRequest) -> dict[str, Any]:
    if request.content_type == FORM:
        try:
            return dict(parse_qsl(request.body.decode("utf-8"), keep_blank_values=False))
        except (UnicodeDecodeError, ValueError) as exc:
            raise PayloadError("body", "not a valid form body") from exc
    root = parse_json(request)
    if not isinstance(root, dict):
        raise PayloadError("body", "expected a JSON object")
    return root


def _signals(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str) and v]
    return []
