"""Ingest HTTP API. Bodies are read here (size cap, media type) and validated by the schemas;
the service publishes. Answers 202 only after the broker acknowledged the write."""

from __future__ import annotations

import hmac
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Header, HTTPException, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError

from services.ingest.observability import INGESTED
from services.ingest.schemas import Accepted, ActivityIn, LeadIn
from services.ingest.service import DeliveryRef, IngestService, Receipt
from services.ingest.settings import IngestSettings

M = TypeVar("M", bound=BaseModel)
JSON = frozenset({"application/json"})

API_SOURCE = "api"


# async: plain `def` dependencies run in a threadpool, a hop per request on the hot path.
async def get_settings(request: Request) -> IngestSettings:
    settings: IngestSettings = request.app.state.settings
    return settings


async def get_service(request: Request) -> IngestService:
    service: IngestService = request.app.state.ingest
    return service


async def require_api_key(
    settings: Annotated[IngestSettings, Depends(get_settings)],
    x_api_key: Annotated[str | None, Header()] = None,
    authorization: Annotated[str | None, Header()] = None,
) -> None:
    given = x_api_key or (
        authorization[7:] if authorization and authorization.lower().startswith("bearer ") else None
    )
    valid = [k.get_secret_value() for k in (settings.api_key, settings.api_key_next) if k is not None]
    if not given or not any(hmac.compare_digest(given.encode(), k.encode()) for k in valid):
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "missing or invalid API key: send it as X-API-Key",
            headers={"WWW-Authenticate": "Bearer"},
        )


async def read_raw_body(request: Request, limit: int, media_types: frozenset[str] = JSON) -> bytes:
    """The exact bytes sent (signatures are computed over them), after the media type and size checks."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type not in media_types:
        raise HTTPException(
            status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
            f"send Content-Type: {' or '.join(sorted(media_types))} (got {media_type or 'none'})",
        )
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, f"body over {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, f"body over {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


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


IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=255)]
ApiKey = Annotated[None, Depends(require_api_key)]
Service = Annotated[IngestService, Depends(get_service)]
Settings = Annotated[IngestSettings, Depends(get_settings)]


def json_body(model: type[BaseModel]) -> dict[str, Any]:
    """OpenAPI for a body read by `read_raw_body` + `parse_json` (size and media type, then the model)."""
    schema = model.model_json_schema()
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


router = APIRouter(prefix="/v1", tags=["ingest"])
_ERRORS: dict[int | str, dict[str, str]] = {
    200: {"description": "Repeated delivery: the original ids, no new event"},
    422: {"description": "Invalid body (field-level errors), or an Idempotency-Key reused with another body"},
    401: {"description": "Missing or invalid API key"},
    413: {"description": "Body too large"},
    415: {"description": "Not application/json"},
    503: {"description": "The broker cannot take the write now; retry after Retry-After seconds"},
}


def _answer(receipt: Receipt, endpoint: str) -> JSONResponse:
    code = status.HTTP_200_OK if receipt.replayed else status.HTTP_202_ACCEPTED
    INGESTED.labels(endpoint, str(code)).inc()
    return JSONResponse({"event_id": receipt.event_id, "lead_id": receipt.lead_id}, status_code=code)


@router.post(
    "/leads",
    status_code=202,
    response_model=Accepted,
    responses=_ERRORS,
    openapi_extra=json_body(LeadIn),
)
async def post_lead(
    request: Request, _: ApiKey, service: Service, settings: Settings, idempotency_key: IdempotencyKey = None
) -> JSONResponse:
    """Accept a canonical lead; `lead.captured` is on Kafka before this answers 202."""
    raw = await read_raw_body(request, settings.max_body_bytes)
    body = parse_json(LeadIn, raw)
    return _answer(
        await service.capture_lead(body, API_SOURCE, DeliveryRef.of(idempotency_key, raw)), "leads"
    )


@router.post(
    "/activities",
    status_code=202,
    response_model=Accepted,
    responses=_ERRORS,
    openapi_extra=json_body(ActivityIn),
)
async def post_activity(
    request: Request, _: ApiKey, service: Service, settings: Settings, idempotency_key: IdempotencyKey = None
) -> JSONResponse:
    """Record what sales did with a lead (first touch, accepted, rejected, opportunity, stage, won, lost)."""
    raw = await read_raw_body(request, settings.max_body_bytes)
    body = parse_json(ActivityIn, raw)
    receipt = await service.record_activity(body, API_SOURCE, DeliveryRef.of(idempotency_key, raw))
    return _answer(receipt, "activities")
