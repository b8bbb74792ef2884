"""One lead goes webhook → Kafka → router → handoff → funnel, every service its own process."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
import pytest
from aiokafka import ConsumerRecord

from services.devstack import start_service, stop_all, wait_ready
from shared.events import CloudEvent, LeadAssigned, Topics
from shared.kafka.brokers import Broker
from tests.helpers.kafka_tools import read_until
from tests.helpers.stack import API_KEY, METRICS_HEADERS, e2e_env

pytestmark = [pytest.mark.e2e, pytest.mark.kafka, pytest.mark.db]


def test_lead_flows_from_webhook_to_handoff_and_funnel(
    broker: Broker, database_url: str, topic_prefix: str, tmp_path: Path
) -> None:
    env = e2e_env(broker.bootstrap, database_url, topic_prefix)
    # Metrics first: both consumers start from the earliest offset anyway, order must not matter.
    services = [start_service(name, env, tmp_path) for name in ("metrics", "router", "ingest")]
    try:
        wait_ready(services)
        ingest, metrics = services[2], services[0]
        lead = {"email": "grace.hopper@navy.example", "company": "Navy", "employees": 900, "country": "US"}
        response = httpx.post(f"{ingest.url}/v1/leads", json=lead, headers={"X-API-Key": API_KEY}, timeout=10)
        assert response.status_code == 202, response.text
        lead_id = response.json()["lead_id"]

        records = asyncio.run(
            read_until(broker.bootstrap, Topics(topic_prefix).handoffs, _assigned, timeout_s=30)
        )
        events = [CloudEvent.from_bytes(r.value) for r in records]
        assert [(e.type, e.subject) for e in events[:2]] == [
            ("lead.qualified", lead_id),
            ("lead.assigned", lead_id),
        ]
        # Then only the assignment's SLA clocks, for this lead.
        assert {(e.type, e.subject) for e in events[2:]} <= {("sla.started", lead_id)}
        assert records[1].key == lead_id.encode()  # keyed by lead id: one lead, one partition, in order
        assigned = events[1].payload(LeadAssigned)
        assert (assigned.team, assigned.rep_id, assigned.policy) == ("inbound-amer", "ana", "round_robin")
        assert [r.code for r in assigned.reasons] == ["team_matched", "round_robin"]

        funnel = _wait_for_funnel(metrics.url, lambda f: f["steps"][3]["reached"] == 1)
        reached = {s["stage"]: s["reached"] for s in funnel["steps"]}
        assert reached == {
            "captured": 1,
            "reviewed": 1,
            "mql": 1,
            "assigned": 1,
            "sal": 0,
            "sql": 0,
            "won": 0,
        }
        assert funnel["steps"][2]["conversion_from_previous"] == 1.0
        assert httpx.get(f"{metrics.url}/", timeout=5).headers["location"] == "/login"
        page = httpx.get(f"{metrics.url}/", headers=METRICS_HEADERS, timeout=5)
        assert page.status_code == 200 and "text/html" in page.headers["content-type"]
        assert "/v1/funnel" in page.text  # the dashboard reads the funnel API
        csv = httpx.get(
            f"{metrics.url}/v1/funnel", params={"format": "csv"}, headers=METRICS_HEADERS, timeout=5
        )
        assert csv.headers["content-type"].startswith("text/csv") and "assigned,Assigned,1" in csv.text
    finally:
        codes = stop_all(services)
    assert codes == {"metrics": 0, "router": 0, "ingest": 0}, "services should shut down cleanly on SIGTERM"
    for svc in services:
        log = svc.log.read_text()
        assert "Application shutdown complete" in log, svc.name
        assert svc.name == "ingest" or "consumer_stopped" in log, f"{svc.name} did not stop its consumer"


def _assigned(records: list[ConsumerRecord[bytes, bytes]]) -> bool:
    return any(CloudEvent.from_bytes(r.value).type == "lead.assigned" for r in records)


def _wait_for_funnel(url: str, done: object, timeout_s: float = 30.0) -> dict:  # type: ignore[type-arg]
    deadline = time.monotonic() + timeout_s
    body: dict = {}  # type: ignore[type-arg]
    while time.monotonic() < deadline:
        body = httpx.get(f"{url}/v1/funnel", headers=METRICS_HEADERS, timeout=5).json()
        if done(body):  # type: ignore[operator]
            return body
        time.sleep(0.2)
    raise AssertionError(f"funnel never reached the expected state: {body}")
