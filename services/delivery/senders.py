"""How one message goes out, per kind of target. Every sender answers with an `Outcome`.

`Target` bundles a sender with the target's own limits (concurrency, rate, schedule), so the
dispatcher treats a CRM webhook, a rep's Slack and HubSpot alike, each on its own lane.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Protocol

import httpx

from services.delivery.clock import Clock
from services.delivery.config import DeliveryEndpoint
from services.delivery.outcome import Outcome, http_outcome
from services.delivery.repository import Message
from services.delivery.signing import Signer
from shared.outbound_http import tls_context

CONTENT_TYPE = "application/cloudevents+json"
# httpx logs every request's URL at INFO; a Slack incoming-webhook URL is a secret.
logging.getLogger("httpx").setLevel(logging.WARNING)


class Sender(Protocol):
    async def send(self, message: Message) -> Outcome: ...


class RateLimiter:
    """A token bucket: at most `per_s` starts per second on average, bursts of `burst`."""

    def __init__(self, per_s: float, burst: int = 1) -> None:
        self._per_s = per_s
        self._burst = float(max(1, burst))
        self._tokens = self._burst
        self._last = time.monotonic()
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        async with self._lock:
            while True:
                now = time.monotonic()
                self._tokens = min(self._burst, self._tokens + (now - self._last) * self._per_s)
                self._last = now
                if self._tokens >= 1:
                    self._tokens -= 1
                    return
                await asyncio.sleep((1 - self._tokens) / self._per_s)


@dataclass
class Target:
    name: str
    sender: Sender
    concurrency: int
    schedule: Sequence[float]
    # Slack and email cannot be deduplicated by the receiver: never risk a second send.
    at_most_once: bool = False
    limiter: RateLimiter | None = None


def endpoint_client(concurrency: int) -> httpx.AsyncClient:
    """One client (one connection pool) per endpoint, so a hung endpoint cannot hold another's connections."""
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    return httpx.AsyncClient(limits=limits, follow_redirects=False, verify=tls_context())


class WebhookSender:
    """POST the CloudEvent, signed; 2xx within the endpoint's timeout is success."""

    def __init__(self, endpoint: DeliveryEndpoint, signer: Signer, client: httpx.AsyncClient, clock: Clock):
        self._endpoint = endpoint
        self._signer = signer
        self._client = client
        self._clock = clock

    async def send(self, message: Message) -> Outcome:
        endpoint = self._endpoint
        # The wall clock, not the injected one: receivers check the timestamp against their own clock.
        headers = self._signer.headers(message.event_id, datetime.now(UTC), message.body)
        headers["content-type"] = CONTENT_TYPE
        return await post(self._client, endpoint.url, message.body, headers, endpoint.timeout_s, self._clock)


async def post(
    client: httpx.AsyncClient,
    url: str,
    body: bytes,
    headers: dict[str, str],
    timeout_s: float,
    clock: Clock,
    method: str = "POST",
    throttled: Callable[[httpx.Headers], float] | None = None,
) -> Outcome:
    """One HTTP exchange as an Outcome; `throttled` reads a vendor's own rate-limit headers on 429/503."""
    try:
        # The whole exchange (connect, send, answer) within the timeout, not each phase on its own.
        async with asyncio.timeout(timeout_s):
            response = await client.request(method, url, content=body, headers=headers, timeout=timeout_s)
    except (TimeoutError, httpx.TimeoutException):
        return Outcome(False, None, f"no answer within {timeout_s:g}s")
    except httpx.HTTPError as exc:
        return Outcome(False, None, f"request failed: {type(exc).__name__}: {str(exc)[:200]}")
    outcome = http_outcome(response.status_code, response.headers, clock.now())
    if throttled is not None and response.status_code in (429, 503):
        outcome = replace(outcome, retry_after_s=throttled(response.headers))
    return outcome
