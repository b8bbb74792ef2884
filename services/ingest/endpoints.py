"""Ingest HTTP API. Bodies are read here (size cap, media type) and validated by the schemas;
the service publishes. Answers 202 only after the broker acknowledged the write."""

from __future__ import annotations

import hmac
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pydantic import BaseModel, ValidationError
from pydantic_core import to_json
from starlette.requests import ClientDisconnect

from services.ingest.observability import INGESTED, LabelCache
from services.ingest.schemas import Accepted, ActivityIn, LeadIn
from services.ingest.service import DeliveryRef, IngestService, Receipt
from services.ingest.settings import IngestSettings

M = TypeVar("M", bound=BaseModel)
JSON = frozenset({"application/json"})

API_SOURCE = "api"
MAX_KEY = 255
LEAD_EXAMPLE: dict[str, Any] = {
    "lead_id": "crm-00123",
    "email": "ada.novak@northwind.example",
    "first_name": "Ada",
    "last_name": "Novak",
    "company": "Northwind Traders",
    "title": "VP Operations",
    "employees": 120,
    "country": "US",
    "campaign": "q4-ops-automation",
    "utm": {"source": "google", "medium": "cpc"},
    "occurred_at": "2026-11-20T14:03:00+01:00",
}
ACTIVITY_EXAMPLE: dict[str, Any] = {
    "lead_id": "crm-00123",
    "kind": "opportunity_created",
    "rep_id": "ana",
    "value": 24000,
    "expected_close": "2027-01-31",
    "occurred_at": "2026-11-22T10:15:00-05:00",
}


# async: plain `def` dependencies run in a threadpool, a hop per request on the hot path.
async def get_settings(request: Request) -> IngestSettings:
    settings: IngestSettings = request.app.state.settings
    return settings


async def get_service(request: Request) -> IngestService:
    service: IngestService = request.app.state.ingest
    return service


def request_headers(request: Request) -> dict[bytes, bytes]:
    """The request's headers by lower-case name, the first of each (as `request.headers.get` answers),
    read in one pass: each `request.headers.get` rescans the list (~2 µs each, five a request)."""
    found: dict[bytes, bytes] = {}
    for name, value in request.scope["headers"]:
        found.setdefault(name, value)
    return found


def check_api_key(headers: dict[bytes, bytes], settings: IngestSettings) -> None:
    """X-API-Key (or `Authorization: Bearer`) must be one of the configured keys (two during rotation).

    A plain call, not a FastAPI dependency: on the hot path, dependency resolution cost more than
    the durable write (profiled: solve_dependencies was the largest item per request)."""
    given = headers.get(b"x-api-key")
    if given is None:
        authorization = headers.get(b"authorization", b"")
        given = authorization[7:] if authorization[:7].lower() == b"bearer " else None
    valid: tuple[bytes, ...] = settings.api_keys
    if not given or not any(hmac.compare_digest(given, k) for k in valid):
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "missing or invalid API key: send it as X-API-Key",
            headers={"WWW-Authenticate": "Bearer"},
        )


def idempotency_key(headers: dict[bytes, bytes]) -> str | None:
    raw = headers.get(b"idempotency-key")
    if raw is None:
        return None
    key = raw.decode("latin-1")  # how ASGI servers and Starlette read header values
    if len(key) > MAX_KEY:
        raise RequestValidationError(
            [
                {
                    "loc": ("header", "Idempotency-Key"),
                    "msg": f"at most {MAX_KEY} characters",
                    "type": "too_long",
                }
            ]
        )
    return key


async def read_raw_body(
    request: Request,
    limit: int,
    media_types: frozenset[str] = JSON,
    headers: dict[bytes, bytes] | None = None,
) -> bytes:
    """The exact bytes sent (signatures are computed over them), after the media type and size checks.

    Read straight from the ASGI channel: `request.stream()` is an async generator per request."""
    headers = request_headers(request) if headers is None else headers
    media_type = headers.get(b"content-type", b"").decode("latin-1").split(";")[0].strip().lower()
    if media_type not in media_types:
        raise HTTPException(
            status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
            f"send Content-Type: {' or '.join(sorted(media_types))} (got {media_type or 'none'})",
        )
    declared = headers.get(b"content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, f"body over {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await request.receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect()
        chunk: bytes = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, f"body over {limit} bytes")
        chunks.append(chunk)
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def parse_json(model: type[M], raw: bytes) -> M:
    """Validate raw JSON into the model; errors name the field (`loc`), never echo the input back
    (it may be invalid UTF-8, and it may be personal data)."""
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        raise RequestValidationError(
            [
                {"loc": ("body", *e["loc"]), "msg": e["msg"], "type": e["type"]}
                for e in exc.errors(include_url=False, include_context=False, include_input=False)
            ]
        ) from exc


Service = Annotated[IngestService, Depends(get_service)]
Settings = Annotated[IngestSettings, Depends(get_settings)]


_HEADERS: list[dict[str, Any]] = [
    {
        "name": "X-API-Key",
        "in": "header",
        "required": False,
        "schema": {"type": "string"},
        "description": "the integration's API key (or send `Authorization: Bearer <key>`)",
    },
    {
        "name": "Idempotency-Key",
        "in": "header",
        "required": False,
        "schema": {"type": "string", "maxLength": MAX_KEY},
        "description": "a repeat within the retry span answers 200 with the original ids",
    },
]


def json_body(model: type[BaseModel], example: dict[str, Any]) -> dict[str, Any]:
    """OpenAPI for a body read by `read_raw_body` + `parse_json` (size and media type, then the model),
    and for the headers the endpoint reads itself."""
    schema = model.model_json_schema()
    content = {"application/json": {"schema": schema, "example": example}}
    return {"requestBody": {"required": True, "content": content}, "parameters": _HEADERS}


router = APIRouter(prefix="/v1", tags=["ingest"])
_ERRORS: dict[int | str, dict[str, str]] = {
    200: {"description": "Repeated delivery: the original ids, no new event"},
    404: {"description": "An activity addressed by an email no captured lead has"},
    422: {"description": "Invalid body (field-level errors), or an Idempotency-Key reused with another body"},
    401: {"description": "Missing or invalid API key"},
    413: {"description": "Body too large"},
    415: {"description": "Not application/json"},
    503: {"description": "The broker cannot take the write now; retry after Retry-After seconds"},
}


_ANSWERED = LabelCache(INGESTED)


def _answer(receipt: Receipt, endpoint: str) -> Response:
    code = status.HTTP_200_OK if receipt.replayed else status.HTTP_202_ACCEPTED
    _ANSWERED.inc(endpoint, str(code))
    # What JSONResponse renders (compact, UTF-8), by pydantic-core's serialiser instead of json.dumps.
    body = to_json({"event_id": receipt.event_id, "lead_id": receipt.lead_id})
    return Response(body, status_code=code, media_type="application/json")


@router.post(
    "/leads",
    status_code=202,
    response_model=Accepted,
    responses=_ERRORS,
    openapi_extra=json_body(LeadIn, LEAD_EXAMPLE),
)
async def post_lead(request: Request) -> Response:
    """Accept a canonical lead; `lead.captured` is on Kafka before this answers 202."""
    service, body, delivery = await _accepted_request(request, LeadIn)
    receipt = await service.capture_lead(
        body, API_SOURCE, delivery, lead_id=body.lead_id, occurred_at=body.occurred_at
    )
    return _answer(receipt, "leads")


@router.post(
    "/activities",
    status_code=202,
    response_model=Accepted,
    responses=_ERRORS,
    openapi_extra=json_body(ActivityIn, ACTIVITY_EXAMPLE),
)
async def post_activity(request: Request) -> Response:
    """Record what sales did with a lead (first touch, accepted, rejected, opportunity, stage, won, lost)."""
    service, body, delivery = await _accepted_request(request, ActivityIn)
    return _answer(await service.record_activity(body, API_SOURCE, delivery), "activities")


async def _accepted_request(request: Request, model: type[M]) -> tuple[IngestService, M, DeliveryRef]:
    """The checks every API write goes through, in order: key (401), Idempotency-Key, media type and
    size (415, 413), body (422)."""
    state = request.app.state
    settings: IngestSettings = state.settings
    headers = request_headers(request)
    check_api_key(headers, settings)
    key = idempotency_key(headers)
    raw = await read_raw_body(request, settings.max_body_bytes, JSON, headers)
    body = parse_json(model, raw)
    service: IngestService = state.ingest
    return service, body, DeliveryRef.of(key, raw)
