"""POST /v1/erasures: erase one person by email (admin key only).

Answers 202 once every `person.erased` is acknowledged by the broker; the other services erase
their copies as they consume it (seconds). An address no lead was captured with answers 202 too,
with no lead ids: the request is done either way (and a second erasure of the same person finds
nothing left), so a retry or a script never has to tell "already erased" from "never here".
"""

from __future__ import annotations

import hmac

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.responses import JSONResponse

from services.ingest.endpoints import json_body, parse_json, read_raw_body
from services.ingest.erasure.schemas import ErasureIn, ErasureOut
from services.ingest.erasure.service import ErasureService
from services.ingest.settings import IngestSettings

router = APIRouter(prefix="/v1", tags=["privacy"])
EXAMPLE = {"email": "ada.novak@northwind.example"}
_ANSWERS: dict[int | str, dict[str, str]] = {
    401: {"description": "Missing or invalid admin key (LEADRELAY_INGEST_ADMIN_API_KEY)"},
    413: {"description": "Body too large"},
    415: {"description": "Not application/json"},
    422: {"description": "Not an email address"},
    503: {"description": "The broker or the database cannot take the erasure now; retry later"},
}
_OPENAPI = json_body(ErasureIn, EXAMPLE)
_OPENAPI["parameters"] = [
    {
        "name": "X-API-Key",
        "in": "header",
        "required": False,
        "schema": {"type": "string"},
        "description": "the admin key (LEADRELAY_INGEST_ADMIN_API_KEY), not the integrations' key",
    }
]


def _check_admin_key(request: Request, settings: IngestSettings) -> None:
    given = request.headers.get("x-api-key")
    if given is None:
        authorization = request.headers.get("authorization", "")
        given = authorization[7:] if authorization[:7].lower() == "bearer " else None
    expected = settings.admin_key
    if expected is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "the admin API is closed: set LEADRELAY_INGEST_ADMIN_API_KEY on ingest to open it",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if not given or not hmac.compare_digest(given.encode(), expected):
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "missing or invalid admin key: send LEADRELAY_INGEST_ADMIN_API_KEY as X-API-Key",
            headers={"WWW-Authenticate": "Bearer"},
        )


@router.post(
    "/erasures", status_code=202, response_model=ErasureOut, responses=_ANSWERS, openapi_extra=_OPENAPI
)
async def post_erasure(request: Request) -> JSONResponse:
    """Erase one person: every lead captured with this email, in every service (GDPR Art. 17)."""
    settings: IngestSettings = request.app.state.settings
    _check_admin_key(request, settings)
    body = parse_json(ErasureIn, await read_raw_body(request, settings.max_body_bytes))
    erasures: ErasureService = request.app.state.erasures
    receipt = await erasures.erase(body.email)
    detail = (
        f"{len(receipt.lead_ids)} lead(s) erased here; the other services follow as they consume "
        "person.erased"
        if receipt.lead_ids
        else "no lead was captured with that email: nothing to erase"
    )
    answer = ErasureOut(
        erasure_id=receipt.erasure_id,
        lead_ids=list(receipt.lead_ids),
        events=len(receipt.event_ids),
        detail=detail,
    )
    return JSONResponse(answer.model_dump(), status_code=status.HTTP_202_ACCEPTED)
