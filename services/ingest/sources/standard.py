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
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, ClassVar
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
from services.ingest.sources.mapping import Plan, _empty, assemble_planned, parse_time, plan_for

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
        self._options: SourceOptions | None = None
        self._field_reader = _reader(())

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
        if options is not self._options:  # a source maps with the same options every time
            self._options, self._field_reader = options, _reader(tuple(options.field_map.items()))
        reader = self._field_reader
        data = root.get("data")
        scanned: dict[str, Any] = data if isinstance(data, dict) else root
        utm = _get(root, reader.utm) if reader.utm else None
        extra: dict[Any, Any] = utm if isinstance(utm, dict) else {}
        layout = _layout(reader, scanned is not root, tuple(scanned), tuple(extra))
        # The values in the layout's order: the mapped paths, every key of the scanned object, the
        # entries of a `utm` object. A mapped path into the scanned object is read from it directly.
        answers = list(scanned.values())
        values = [answers[r] if isinstance(r, int) else _get(root, r) for r in layout.reads]
        values += answers
        if extra:
            values += extra.values()
        signals = _get(root, reader.signals) if reader.signals else None
        lead_id = _get(root, reader.lead_id) if reader.lead_id else None
        return [
            MappedLead(
                lead=assemble_planned(
                    values, layout.names, layout.plan(values, options), options, signals=_signals(signals)
                ),
                delivery_id=delivery_id,
                occurred_at=parse_time(_get(root, reader.occurred_at)),
                lead_id=str(lead_id) if isinstance(lead_id, str | int) and lead_id != "" else None,
            )
        ]


class _Layout:
    """One form layout of a source (its field map, the scanned object's keys in order, a `utm`
    object's keys): which values are form fields, their names, and their plans by which of them are
    empty. Built once per layout, so a delivery builds no `FormField`s and hashes no shape; the
    plan is `mapping.plan_for`'s, the same resolver `assemble` uses (tests/unit/test_standard_layout.py)."""

    MAX_PLANS = 64  # emptiness patterns kept per layout; past that, plans are looked up each time

    def __init__(self, reader: _Reader, nested: bool, keys: tuple[str, ...], extra: tuple[Any, ...]) -> None:
        prefix = "data." if nested else ""
        index = {key: i for i, key in enumerate(keys)}
        mapped = len(reader.mapped)
        # How to read each mapped path: an index into the scanned object's values, or the path.
        reads: list[int | tuple[str, ...]] = []
        for path, parts in reader.mapped:
            key = path[len(prefix) :] if path.startswith(prefix) and "." not in path[len(prefix) :] else None
            reads.append(index[key] if key in index else parts)
        self.reads = tuple(reads)
        kept = [
            mapped + i
            for i, key in enumerate(keys)
            if prefix + key not in reader.mapped_paths and key not in reader.named
        ]
        ids: dict[int, tuple[str, ...]] = {i: (path,) for i, (path, _) in enumerate(reader.mapped)}
        ids |= {mapped + i: (key, prefix + key) for i, key in enumerate(keys)}
        names = [path for path, _ in reader.mapped] + list(keys) + [str(k) for k in extra]
        ids |= {mapped + len(keys) + i: (str(k),) for i, k in enumerate(extra)}
        self.slots = tuple([*range(mapped), *kept, *range(mapped + len(keys), len(names))])
        self.ids = tuple(ids[i] for i in self.slots)
        self.names = tuple(names)
        self._plans: dict[tuple[bool, ...] | None, Plan] = {}

    def plan(self, values: Sequence[Any], options: SourceOptions) -> Plan:
        """The plan for these values, by which form fields are empty (as `mapping._empty` says)."""
        slots = self.slots
        empties: tuple[bool, ...] | None = None  # none empty: the usual case, found without a call per value
        if None in values or "" in values or [] in values or {} in values:
            flagged = tuple(_empty(values[i]) for i in slots)
            empties = flagged if any(flagged) else None  # only a value that is no form field was empty
        plan = self._plans.get(empties)
        if plan is None:
            flags = empties or (False,) * len(slots)
            planned = plan_for(options, tuple((ids, None, e) for ids, e in zip(self.ids, flags, strict=True)))
            # Indexes into the form fields, back to indexes into `values`.
            plan = Plan(
                tuple((canonical, slots[i]) for canonical, i in planned.chosen),
                tuple((slots[i], utm_key) for i, utm_key in planned.rest),
            )
            if len(self._plans) < self.MAX_PLANS:
                self._plans[empties] = plan
        return plan


@lru_cache(maxsize=1024)  # bounded: key names are input
def _layout(reader: _Reader, nested: bool, keys: tuple[str, ...], extra: tuple[Any, ...]) -> _Layout:
    return _Layout(reader, nested, keys, extra)


@dataclass(frozen=True, eq=False)  # hashed by identity: `_layout`'s cache key, one per field map
class _Reader:
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
