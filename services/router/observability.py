"""The router's Prometheus metrics."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

DECISIONS = Counter("leadrelay_router_decisions_total", "Qualification decisions by outcome", ["outcome"])
SLA_TIMERS_FIRED = Counter("leadrelay_router_sla_timers_fired_total", "SLA timers fired, by kind", ["kind"])
SLA_TIMER_LATENESS = Histogram(
    "leadrelay_router_sla_timer_lateness_seconds",
    "How long after its deadline an SLA timer fired (commit time - due time)",
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 15.0, 60.0, 300.0),
)
