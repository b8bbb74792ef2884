"""Prometheus metrics shared by the services (one registry per process)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

MESSAGES = Counter("leadrelay_messages_total", "Consumed messages by outcome", ["group", "topic", "result"])
HANDLER_SECONDS = Histogram("leadrelay_handler_seconds", "Time to handle one message", ["group"])
DECISIONS = Counter("leadrelay_router_decisions_total", "Qualification decisions by outcome", ["outcome"])
INGESTED = Counter(
    "leadrelay_ingest_requests_total", "Ingest requests by endpoint and status", ["endpoint", "status"]
)
