"""The ingest service's Prometheus metrics."""

from __future__ import annotations

from prometheus_client import Counter

INGESTED = Counter(
    "leadrelay_ingest_requests_total", "Ingest requests by endpoint and status", ["endpoint", "status"]
)
