"""GET /v1/response-times: speed to lead P50/P90/P99, SLA bands and compliance, by rep, team, source."""
