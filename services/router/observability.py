"""The router's Prometheus metrics."""

from __future__ import annotations

from prometheus_client import Counter

DECISIONS = Counter("leadrelay_router_decisions_total", "Qualification decisions by outcome", ["outcome"])
