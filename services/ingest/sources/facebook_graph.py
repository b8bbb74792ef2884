"""A small Graph API client: read one Lead Ads lead by its leadgen id.

Per https://developers.facebook.com/docs/marketing-api/guides/lead-ads/retrieving :
`GET /<version>/<leadgen_id>` with a Page access token (leads_retrieval permission) answers
`{"id", "created_time", "field_data": [{"name", "values": [...]}], ...}`. Ad-level fields (ad_id,
campaign_id) need ads_management as well, so they are opt-in via `fields`.

The token travels in the Authorization header, never in the URL, so it cannot leak into access
logs; with the app secret, `appsecret_proof` is sent too (Graph API "Securing requests").
"""

from __future__ import annotations

import hashlib
import hmac
import re
from types import TracebackType
from typing import Any

import httpx

from shared.outbound_http import tls_context

DEFAULT_BASE_URL = "https://graph.facebook.com"
DEFAULT_VERSION = "v21.0"
DEFAULT_FIELDS = ("id", "created_time", "field_data", "form_id")
_LEADGEN_ID = re.compile(r"^[0-9]{1,32}$")
_VERSION = re.compile(r"^v[0-9]+\.[0-9]+$")


class GraphError(Exception):
    """The Graph API did not give the lead. `retryable`: worth answering 503 so Facebook retries."""

    def __init__(self, reason: str, status: int | None, retryable: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status
        self.retryable = retryable


class GraphClient:
    def __init__(
        self,
        access_token: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        version: str = DEFAULT_VERSION,
        app_secret: str | None = None,
        fields: tuple[str, ...] = DEFAULT_FIELDS,
        timeout_s: float = 5.0,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        if not _VERSION.match(version):
            raise ValueError(f"Graph API version must look like v21.0 (got {version!r})")
        self._token = access_token
        self._version = version
        self._fields = ",".join(fields)
        self._proof = (
            hmac.new(app_secret.encode(), access_token.encode(), hashlib.sha256).hexdigest()
            if app_secret
            else None
        )
        self._own_client = client is None
        self._client = client or httpx.AsyncClient(
            base_url=base_url.rstrip("/"), timeout=timeout_s, verify=tls_context()
        )

    async def fetch_lead(self, leadgen_id: str) -> dict[str, Any]:
        # The id comes from the webhook body: refuse anything but digits before it becomes a path.
        if not _LEADGEN_ID.match(leadgen_id):
            raise GraphError("leadgen_id is not a Graph object id", None, retryable=False)
        params = {"fields": self._fields, **({"appsecret_proof": self._proof} if self._proof else {})}
        try:
            response = await self._client.get(
                f"/{self._version}/{leadgen_id}",
                params=params,
                headers={"Authorization": f"Bearer {self._token}"},
            )
        except httpx.HTTPError as exc:
            raise GraphError(f"Graph API unreachable: {type(exc).__name__}", None, retryable=True) from exc
        if response.status_code != 200:
            # 429 and 5xx pass; a 4xx (bad token, no permission, unknown lead) needs a person.
            retryable = response.status_code == 429 or response.status_code >= 500
            raise GraphError(_error_message(response), response.status_code, retryable)
        try:
            lead = response.json()
        except ValueError as exc:
            raise GraphError("Graph API answered with invalid JSON", 200, retryable=True) from exc
        if not isinstance(lead, dict):
            raise GraphError("Graph API answered with a non-object", 200, retryable=False)
        return lead

    async def aclose(self) -> None:
        if self._own_client:
            await self._client.aclose()

    async def __aenter__(self) -> GraphClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()


def _error_message(response: httpx.Response) -> str:
    """Graph's own error type and code: no token and no lead data in it."""
    try:
        error = response.json().get("error", {})
        return f"Graph API {response.status_code}: {error.get('type', 'error')} code {error.get('code')}"
    except (ValueError, AttributeError):
        return f"Graph API {response.status_code}"
