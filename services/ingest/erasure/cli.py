"""`leadrelay erase --email ADDRESS`: ask ingest's admin API to erase one person.

The CLI holds no database or broker connection of its own: ingest owns the email index and
publishes the erasure events, so the command is one authenticated POST. It prints the erasure id
and the lead ids, never the address (terminals and CI logs are kept too).
"""

from __future__ import annotations

import httpx

from services.ingest.erasure.schemas import ErasureOut
from services.ingest.settings import IngestSettings


class EraseFailed(Exception):
    """What went wrong, worded with the fix."""


def ingest_url(settings: IngestSettings, given: str | None) -> str:
    if given:
        return given.rstrip("/")
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "::") else settings.host
    return f"http://{host}:{settings.port}"


def erase_person(email: str, url: str, key: bytes | None, timeout_s: float = 30.0) -> tuple[str, list[str]]:
    """POST /v1/erasures; (erasure id, lead ids erased), or EraseFailed naming the fix."""
    if key is None:
        raise EraseFailed("no admin key: set LEADRELAY_INGEST_ADMIN_API_KEY to ingest's admin key")
    try:
        answer = httpx.post(
            f"{url}/v1/erasures",
            json={"email": email},
            headers={"X-API-Key": key.decode()},
            timeout=timeout_s,
        )
    except httpx.HTTPError as exc:
        raise EraseFailed(
            f"cannot reach ingest at {url} ({type(exc).__name__}): start it (leadrelay up) or pass --url"
        ) from exc
    if answer.status_code == 202:
        body = ErasureOut.model_validate_json(answer.content)
        return body.erasure_id, body.lead_ids
    if answer.status_code == 401:
        raise EraseFailed(
            "ingest refused the admin key: set LEADRELAY_INGEST_ADMIN_API_KEY to the key ingest runs with"
        )
    if answer.status_code == 422:
        raise EraseFailed("not an email address: pass the address the leads were captured with")
    if answer.status_code == 404:
        raise EraseFailed(f"{url} has no erasure API: is it ingest, and as new as this CLI?")
    raise EraseFailed(
        f"ingest answered {answer.status_code}: {answer.text[:300]}; retry later (nothing was erased "
        "if the broker or the database was down)"
    )
