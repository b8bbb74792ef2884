"""`POST /v1/sources/{source}/webhooks`: a configured form tool's delivery, verified then mapped.

Order: source known (404) → rate limit (429) → media type and size on the raw bytes (415, 413)
→ signature over the exact bytes (401) → map the vendor's payload (422) → publish each lead
with a durable ack (202; a repeated delivery id answers 200 with the original ids).
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Path, Request, status
from fastapi.responses import PlainTextResponse, Response
from pydantic import BaseModel, ValidationError
from pydantic_core import to_json

from services.ingest.endpoints import Service, Settings, read_raw_body, request_headers
from services.ingest.observability import INGESTED, LabelCache
from services.ingest.schemas import LeadRef
from services.ingest.service import DeliveryRef, IngestService, Receipt
from services.ingest.settings import IngestSettings
from services.ingest.sources import (
    GraphError,
    InboundRequest,
    MappedLead,
    PayloadError,
    SignatureError,
    SubscriptionRefused,
    map_request,
    verify_subscription,
)
from services.ingest.webhooks.rate_limit import TokenBucket
from services.ingest.webhooks.sources import ConfiguredSource

_ANSWERED = LabelCache(INGESTED)


class AcceptedLead(BaseModel):
    event_id: str
    lead_id: str
    replayed: bool


class WebhookAccepted(BaseModel):
    """The first lead's ids (most deliveries carry one), and every lead the delivery carried.

    A verified delivery that carries no lead (a cancellation, a deletion) answers 200 with no
    leads: the vendor must not retry it, nor disable the subscription for it."""

    event_id: str | None
    lead_id: str | None
    leads: list[AcceptedLead]


def source_dependency(names: Sequence[str]) -> Callable[..., Awaitable[ConfiguredSource]]:
    """The `{source}` path parameter, documented with the configured names (so integrators and
    fuzzers see the real ones); any other name is a 404."""
    extra = {"enum": sorted(names)} if names else None

    source_path = Path(max_length=100, json_schema_extra=extra)

    async def get_source(request: Request, source: str = source_path) -> ConfiguredSource:
        sources: dict[str, ConfiguredSource] = request.app.state.sources
        found = sources.get(source)
        if found is None:
            raise HTTPException(
                status.HTTP_404_NOT_FOUND,
                f"no webhook source {source!r} is configured; declare it under `sources:` in the config",
            )
        return found

    return get_source


_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "Repeated delivery: the original ids, no new event", "model": WebhookAccepted},
    401: {"description": "Missing, invalid or stale signature"},
    404: {"description": "No such source in the config"},
    413: {"description": "Body too large"},
    415: {"description": "A media type this vendor does not send"},
    422: {"description": "Verified, but not a lead this source can map (the field is named)"},
    429: {"description": "Over this source's rate limit; retry after Retry-After seconds"},
    503: {"description": "The broker (or the vendor's API) cannot serve now; retry after Retry-After"},
}


def _inbound(
    request: Request, body: bytes, headers: dict[bytes, bytes], public_url: str | None, signs_url: bool
) -> InboundRequest:
    url = ""
    if signs_url:
        # Vendors that sign the URL (HubSpot v3) sign the public one: behind a proxy, rebuild it.
        # Only for them: Starlette's URL object is a fifth of what verifying a signature costs.
        url = str(request.url)
        if public_url:
            query = request.url.query
            url = public_url.rstrip("/") + request.url.path + (f"?{query}" if query else "")
    # Names come lower-cased from the server (ASGI), values decoded as latin-1 as Starlette does;
    # the first of a repeated name, as `request.headers.get` answers (the dict read off the scope).
    decoded = {k.decode("latin-1"): v.decode("latin-1") for k, v in headers.items()}
    return InboundRequest(
        method=request.method,
        url=url,
        headers=decoded,
        body=body,
        content_type=decoded.get("content-type", "").split(";")[0].strip().lower(),
        query=dict(request.query_params) if request.scope.get("query_string") else {},
    )


def _delivery(mapped: MappedLead) -> DeliveryRef:
    # Per lead, not per body: a vendor may batch the same event with others on a retry. The hash
    # of the lead's JSON as `model_dump_json` writes it, from the serialiser's bytes directly.
    lead = mapped.lead
    body_hash = hashlib.sha256(lead.__pydantic_serializer__.to_json(lead)).hexdigest()
    return DeliveryRef(mapped.delivery_id, body_hash)


def _lead_ref(mapped: MappedLead) -> LeadRef | None:
    """The mapped lead's own id and event time, checked as `LeadIn` checks them (the rest of the
    lead is a validated `LeadData` already)."""
    if mapped.lead_id is None and mapped.occurred_at is None:
        return None
    try:
        return LeadRef.model_validate({"lead_id": mapped.lead_id, "occurred_at": mapped.occurred_at})
    except ValidationError as exc:
        first = exc.errors(include_url=False, include_input=False)[0]
        raise PayloadError(".".join(str(p) for p in first["loc"]), first["msg"]) from exc


async def _capture(service: IngestService, mapped: MappedLead, source: str) -> Receipt:
    ref = _lead_ref(mapped)
    lead_id, occurred_at = (ref.lead_id, ref.occurred_at) if ref is not None else (None, None)
    return await service.capture_lead(
        mapped.lead, source, _delivery(mapped), lead_id=lead_id, occurred_at=occurred_at
    )


def webhooks_router(names: Sequence[str]) -> APIRouter:
    """The webhook routes for this config's sources."""
    router = APIRouter(prefix="/v1/sources", tags=["webhooks"])
    # A default, not an annotation: the dependency is built per app, from the app's own sources.
    source_dep = Depends(source_dependency(names))

    @router.post(
        "/{source}/webhooks",
        status_code=202,
        response_model=WebhookAccepted,
        responses=_RESPONSES,
        openapi_extra=_BODY,
    )
    async def post_webhook(
        request: Request, service: Service, settings: Settings, source: ConfiguredSource = source_dep
    ) -> Response:
        """A form tool's webhook: verified over the exact bytes, mapped to canonical leads, published."""
        return await accept_webhook(request, source, service, settings)

    @router.get(
        "/{source}/webhooks",
        response_class=PlainTextResponse,
        responses={
            403: {"description": "Not a subscription check, or the verify token differs"},
            404: {"description": "No such source, or it has no subscription check"},
        },
    )
    async def verify_webhook_subscription(
        request: Request, source: ConfiguredSource = source_dep
    ) -> PlainTextResponse:
        """Facebook's subscription check: echo `hub.challenge` when `hub.verify_token` is ours."""
        return subscription_check(request, source)

    return router


_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "The vendor's own payload, signed as the vendor signs it (see examples/sources/)",
        "content": {"application/json": {"schema": {"type": "object"}}},
    }
}


async def accept_webhook(
    request: Request, source: ConfiguredSource, service: IngestService, settings: IngestSettings
) -> Response:
    wait_s = source.limit.take()
    if wait_s:
        _ANSWERED.inc(f"webhook:{source.name}", "429")
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            f"source {source.name} is over its rate limit",
            headers={"Retry-After": TokenBucket.retry_after(wait_s)},
        )
    headers = request_headers(request)
    raw = await read_raw_body(
        request, settings.max_body_bytes, source.adapter.accepted_content_types, headers
    )
    inbound = _inbound(request, raw, headers, settings.public_url, source.adapter.signs_url)
    try:
        source.adapter.verify(inbound, source.secrets, datetime.now(UTC))
    except SignatureError as exc:
        _ANSWERED.inc(f"webhook:{source.name}", "401")
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, exc.reason) from exc
    try:
        mapped = await map_request(source.adapter, inbound, source.options, source.graph)
        receipts: list[Receipt] = [await _capture(service, m, source.name) for m in mapped]
    except PayloadError as exc:
        _ANSWERED.inc(f"webhook:{source.name}", "422")
        detail = [{"loc": ["body", *exc.field.split(".")], "msg": exc.reason, "type": "payload_error"}]
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail) from exc
    except GraphError as exc:
        if not exc.retryable:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"graph api: {exc.reason}") from exc
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            "the vendor's API is unavailable",
            headers={"Retry-After": "30"},
        ) from exc
    code = status.HTTP_200_OK if all(r.replayed for r in receipts) else status.HTTP_202_ACCEPTED
    _ANSWERED.inc(f"webhook:{source.name}", str(code))
    # WebhookAccepted's JSON, written from plain values (the models are the documented schema).
    body = {
        "event_id": receipts[0].event_id if receipts else None,
        "lead_id": receipts[0].lead_id if receipts else None,
        "leads": [{"event_id": r.event_id, "lead_id": r.lead_id, "replayed": r.replayed} for r in receipts],
    }
    return Response(to_json(body), status_code=code, media_type="application/json")


async def post_webhook_at_front_door(request: Request) -> Response:
    """`POST /v1/sources/{source}/webhooks` as the front door serves it (services/ingest/front_door.py):
    the same checks and answers as the routed endpoint, without FastAPI's dependency solving."""
    state = request.app.state
    name = request.path_params["source"]
    sources: dict[str, ConfiguredSource] = state.sources
    source = sources.get(name)
    if source is None:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND,
            f"no webhook source {name!r} is configured; declare it under `sources:` in the config",
        )
    return await accept_webhook(request, source, state.ingest, state.settings)


def subscription_check(request: Request, source: ConfiguredSource) -> PlainTextResponse:
    if source.kind != "facebook" or source.verify_token is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"source {source.name} has no subscription check")
    try:
        return PlainTextResponse(verify_subscription(dict(request.query_params), source.verify_token))
    except SubscriptionRefused as exc:
        raise HTTPException(status.HTTP_403_FORBIDDEN, str(exc)) from exc
