"""Prometheus metrics of the shared runtime (consumer loop, outbox relay); one registry per process.
Service-specific metrics live with their service (`services/<name>/observability.py`)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

MESSAGES = Counter("leadrelay_messages_total", "Consumed messages by outcome", ["group", "topic", "result"])
HANDLER_SECONDS = Histogram("leadrelay_handler_seconds", "Time to handle one message", ["group"])
OUTBOX_PUBLISHED = Counter("leadrelay_outbox_published_total", "Outbox rows published", ["outbox"])
OUTBOX_PARKED = Counter(
    "leadrelay_outbox_parked_total", "Outbox rows parked after repeated non-transient failures", ["outbox"]
)
OUTBOX_LAG = Gauge(
    "leadrelay_outbox_lag_seconds", "Age of the oldest unpublished (not parked) outbox row", ["outbox"]
)
