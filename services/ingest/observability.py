"""The ingest service's Prometheus metrics."""

from __future__ import annotations

import time
from typing import Any

from prometheus_client import Counter, Histogram

INGESTED = Counter(
    "leadrelay_ingest_requests_total", "Ingest requests by endpoint and status", ["endpoint", "status"]
)
# Every answer, refusals included (401, 413, 422, 429, 503), by source: what ops alert on.
REQUESTS = Counter(
    "leadrelay_ingest_http_requests_total", "Ingest HTTP answers by source and status", ["source", "status"]
)
# Erasures (POST /v1/erasures): how many were asked for, and how many leads they reached.
ERASURES = Counter("leadrelay_ingest_erasures_total", "Erasures carried out (publish and local erase)")
ERASED_LEADS = Counter("leadrelay_ingest_erased_leads_total", "Leads an erasure published person.erased for")
LATENCY = Histogram(
    "leadrelay_ingest_request_seconds",
    "Time to answer an ingest request (202 includes the broker's ack)",
    ["source"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)


class LabelCache:
    """Prometheus children by label values, looked up once: `.labels()` formats and hashes its
    arguments on every call (~1 µs, several times a request)."""

    def __init__(self, metric: Counter) -> None:
        self._metric = metric
        self._children: dict[tuple[str, ...], Any] = {}

    def inc(self, *values: str) -> None:
        child = self._children.get(values)
        if child is None:
            child = self._children[values] = self._metric.labels(*values)
        child.inc()


def source_of(path: str, known: frozenset[str] = frozenset()) -> str | None:
    """`hubspot` for /v1/sources/hubspot/webhooks, `api` for /v1/leads and /v1/activities; a
    source not in the config is `unknown` (labels stay bounded whatever a client sends)."""
    parts = path.strip("/").split("/")
    if len(parts) == 4 and parts[:2] == ["v1", "sources"] and parts[3] == "webhooks":
        return parts[2] if parts[2] in known else "unknown"
    if parts in (["v1", "leads"], ["v1", "activities"]):
        return "api"
    return None


class RequestMetrics:
    """Pure ASGI middleware (no body buffering): status and latency of every ingest request.
    Install with `app.add_middleware(RequestMetrics)` in the ingest app."""

    def __init__(self, app: Any, known_sources: frozenset[str] = frozenset()) -> None:
        self.app = app
        self.known = known_sources

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        source = source_of(scope.get("path", ""), self.known) if scope.get("type") == "http" else None
        if source is None:
            await self.app(scope, receive, send)
            return
        started, status = time.perf_counter(), 500

        async def send_status(message: dict[str, Any]) -> None:
            nonlocal status
            if message.get("type") == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            REQUESTS.labels(source, str(status)).inc()
            LATENCY.labels(source).observe(time.perf_counter() - started)
