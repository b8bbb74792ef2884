"""The deliverer's Prometheus metrics (served on /metrics with the rest)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

ATTEMPTS = Counter(
    "leadrelay_delivery_attempts_total", "Delivery attempts by channel and outcome", ["channel", "outcome"]
)
DELIVERY_LAG = Histogram(
    "leadrelay_delivery_lag_seconds",
    "From the message's enqueueing to its successful delivery",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 60, 300, 3600),
)
