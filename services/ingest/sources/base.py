"""The contract every form-source adapter keeps, and the pieces they share.

An adapter does two things, in this order: `verify` the raw bytes against the vendor's signature
(any one of the configured secrets may match, so a secret can be rotated with two valid at once),
then `map` the payload to canonical leads. Verification never parses the body: a parser that
normalises whitespace or key order would change what was signed.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Any, ClassVar, NamedTuple, Protocol

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_core import from_json

from shared.events.models import LeadData

DEFAULT_TOLERANCE_S = 300
JSON = "application/json"
FORM = "application/x-www-form-urlencoded"

# What `SourceOptions.field_map` may name: the canonical lead's scalar fields, `name` (a full name,
# split into first and last), and for `standard` the envelope fields of a mapped lead.
CANONICAL_FIELDS = frozenset(
    {
        "email",
        "first_name",
        "last_name",
        "company",
        "title",
        "phone",
        "country",
        "employees",
        "annual_revenue",
        "industry",
        "product_line",
        "campaign",
        "consent",
    }
)
MAPPABLE_FIELDS = CANONICAL_FIELDS | {"name"}
ENVELOPE_FIELDS = frozenset({"lead_id", "occurred_at", "signals", "utm"})


class SignatureError(Exception):
    """The request is not proven to come from the vendor (401). `reason` is safe to return."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class SignatureMissing(SignatureError):
    """A header the scheme needs is absent."""


class SignatureInvalid(SignatureError):
    """No configured secret produces the signature sent (tampered body, wrong or no secret)."""


class SignatureStale(SignatureError):
    """Signed outside the tolerance window: a replay, or a clock far off."""


class PayloadError(ValueError):
    """Verified, but not mappable to a lead (422). Messages name fields, never values (PII)."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class InboundRequest(NamedTuple):
    """What an adapter sees of a request. A named tuple, not a frozen dataclass: one is built per
    delivery, and a frozen dataclass's __init__ sets each field through object.__setattr__."""

    method: str  # "POST" / "GET"
    url: str  # full URL as the vendor called it, for adapters that sign it (else empty)
    headers: Mapping[str, str]  # lower-cased names
    body: bytes  # the exact raw bytes: verify first, parse second
    content_type: str  # media type without params, lower-cased
    query: Mapping[str, str] = MappingProxyType({})


MAX_DELIVERY_ID = 200


@dataclass(slots=True)  # not frozen: built per delivery, and nothing changes it after __post_init__
class MappedLead:
    lead: LeadData
    delivery_id: str  # the vendor's event/delivery id, for dedupe (stable across the vendor's retries)
    occurred_at: datetime | None  # event time at the source when the payload says it
    lead_id: str | None = None  # the vendor's own id for the person/response, if meaningful

    def __post_init__(self) -> None:
        # Some senders choose their own ids (Standard Webhooks' webhook-id): one too long or with
        # control characters is replaced by its hash, which is as stable across retries and fits.
        if len(self.delivery_id) > MAX_DELIVERY_ID or not self.delivery_id.isprintable():
            digest = hashlib.sha256(self.delivery_id.encode("utf-8", "surrogatepass")).hexdigest()
            self.delivery_id = "sha256:" + digest


class SourceOptions(BaseModel):
    """Per-source mapping knobs, independent of the config file's schema."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    field_map: dict[str, str] = Field(
        default_factory=dict,
        description="canonical field -> vendor key / label / ref (a dotted JSON path for `standard`)",
    )
    product_line: str | None = None
    campaign: str | None = Field(default=None, description="used when the payload names no campaign")
    tolerance_s: int = Field(default=DEFAULT_TOLERANCE_S, ge=1, le=3600)

    @field_validator("field_map")
    @classmethod
    def _known_fields(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(value) - MAPPABLE_FIELDS - ENVELOPE_FIELDS)
        if unknown:
            allowed = ", ".join(sorted(MAPPABLE_FIELDS | ENVELOPE_FIELDS))
            raise ValueError(f"unknown canonical field(s) {', '.join(unknown)}; use one of: {allowed}")
        return value


class SourceAdapter(Protocol):
    kind: ClassVar[str]
    accepted_content_types: ClassVar[frozenset[str]]
    # Whether the signature covers the request URL (HubSpot v3): only then is it rebuilt per request.
    signs_url: ClassVar[bool]

    def __init__(self, tolerance_s: int = DEFAULT_TOLERANCE_S) -> None: ...

    def verify(self, request: InboundRequest, secrets: Sequence[str], now: datetime) -> None: ...

    def map(self, request: InboundRequest, options: SourceOptions) -> list[MappedLead]: ...


# --- helpers shared by the adapters ---------------------------------------------------------------


def require_header(request: InboundRequest, name: str) -> str:
    value = request.headers.get(name, "").strip()
    if not value:
        raise SignatureMissing(f"missing {name} header")
    return value


def hmac_sha256(secret: str, message: bytes) -> bytes:
    return hmac.new(secret.encode(), message, hashlib.sha256).digest()


def require_secrets(secrets: Sequence[str]) -> list[str]:
    usable = [s for s in secrets if s]
    if not usable:
        # Fail closed: a source without a secret must not accept unsigned traffic.
        raise SignatureInvalid("no signing secret is configured for this source")
    return usable


def any_secret_matches(
    secrets: Sequence[str], expected: Callable[[str], bytes], given: Sequence[bytes]
) -> None:
    """Raise SignatureInvalid unless some secret's expected signature equals some given one."""
    for secret in require_secrets(secrets):
        mac = expected(secret)
        # compare_digest over every candidate: the time taken does not depend on how much matched.
        if any(hmac.compare_digest(mac, candidate) for candidate in given):
            return
    raise SignatureInvalid("signature does not match any configured secret")


def parse_epoch(value: str, header: str, *, millis: bool) -> datetime:
    """A signed timestamp header: ASCII digits only, of a plausible length, or SignatureInvalid."""
    unit = "milliseconds" if millis else "seconds"
    if not (value.isascii() and value.isdigit() and len(value) <= 16):
        raise SignatureInvalid(f"{header} is not epoch {unit}")
    try:
        return datetime.fromtimestamp(int(value) / (1000 if millis else 1), UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise SignatureInvalid(f"{header} is not epoch {unit}") from exc


def check_window(signed_at: datetime, now: datetime, tolerance_s: int) -> None:
    """Both directions: an old timestamp is a replay, a future one is as suspect."""
    if abs(now - signed_at) > timedelta(seconds=tolerance_s):
        raise SignatureStale(f"signature timestamp outside the {tolerance_s}s window")


def parse_json(request: InboundRequest) -> Any:
    """The body's JSON, by pydantic-core's parser (about twice as fast as `json.loads` on form
    payloads); the same Python values, NaN and Infinity accepted as `json.loads` accepts them. A
    lone surrogate escape (`"\\ud800"`) is refused here, where `json.loads` let it through to fail
    later: no UTF-8 encoder downstream could write it."""
    try:
        return from_json(request.body, allow_inf_nan=True)
    except (ValueError, UnicodeDecodeError) as exc:
        raise PayloadError("body", "not valid JSON") from exc


def require_content_type(request: InboundRequest, accepted: frozenset[str]) -> None:
    if request.content_type not in accepted:
        raise PayloadError("content-type", f"expected one of {', '.join(sorted(accepted))}")


def json_object(request: InboundRequest, accepted: frozenset[str]) -> dict[str, Any]:
    """The body as a JSON object, after the media type check (what most vendors send)."""
    require_content_type(request, accepted)
    payload = parse_json(request)
    if not isinstance(payload, dict):
        raise PayloadError("body", "expected a JSON object")
    return payload
