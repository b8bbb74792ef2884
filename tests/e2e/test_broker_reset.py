"""The embedded broker is killed (-9) twice under a steady load and started again empty: every
lead ingest accepted reaches the router exactly once, and every handoff is on the topic again
(the producers noticed the reset and republished their window; consumers dedupe on event ids)."""

from __future__ import annotations

import asyncio
import threading
import time
from collections import defaultdict
from pathlib import Path

import httpx
import pytest
from aiokafka import ConsumerRecord

from services.devstack import ServiceProcess, start_service, stop_all, wait_ready
from shared.events import CloudEvent, Topics
from shared.kafka.embedded import EmbeddedBroker
from tests.helpers.kafka_tools import read_until
from tests.helpers.stack import API_KEY, e2e_env

pytestmark = [pytest.mark.e2e, pytest.mark.kafka, pytest.mark.db]
PREFIX = "reset."


def _load(url: str, accepted: list[str], stop: threading.Event) -> None:
    """A steady client: one lead every 50 ms, retrying a 503 as Retry-After says (shortened)."""
    n = 0
    with httpx.Client(headers={"X-API-Key": API_KEY}, timeout=10) as client:
        while not stop.is_set():
            lead_id = f"r-{n}"
            lead = {"lead_id": lead_id, "email": f"p{n}@acme.example", "employees": 300, "country": "US"}
            for _ in range(100):
                try:
                    status = client.post(url, json=lead, headers={"Idempotency-Key": lead_id}).status_code
                except httpx.TransportError:
                    status = 0
                if status in (200, 202):
                    accepted.append(lead_id)
                    break
                assert status in (0, 503), f"not a retryable answer: {status}"
                time.sleep(0.3)
            n += 1
            time.sleep(0.05)


def test_embedded_broker_killed_twice_loses_no_accepted_lead(tmp_path: Path) -> None:
    broker = EmbeddedBroker(log_path=tmp_path / "broker.log")
    broker.start()
    env = e2e_env(broker.bootstrap, f"sqlite+aiosqlite:///{tmp_path / 'shared.db'}", PREFIX)
    env |= {
        "LEADRELAY_INGEST_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'ingest.db'}",
        "LEADRELAY_ROUTER_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'router.db'}",
        "LEADRELAY_KAFKA_SEND_TIMEOUT_S": "2",
    }
    services: list[ServiceProcess] = [start_service(name, env, tmp_path) for name in ("ingest", "router")]
    accepted: list[str] = []
    stop = threading.Event()
    try:
        wait_ready(services)
        loader = threading.Thread(target=_load, args=(f"{services[0].url}/v1/leads", accepted, stop))
        loader.start()
        for _ in range(2):
            time.sleep(5)
            broker.kill()  # SIGKILL: memory storage, everything it held is gone
            time.sleep(1.5)
            broker.start()  # same port, empty
        time.sleep(5)
        stop.set()
        loader.join(60)
        expected = set(accepted)
        records = asyncio.run(
            read_until(
                broker.bootstrap, Topics(PREFIX).handoffs, lambda r: _assigned(r) >= expected, timeout_s=90
            )
        )
    finally:
        stop.set()
        stop_all(services)
        broker.stop()
    assignments: dict[str, set[str]] = defaultdict(set)
    for event in (CloudEvent.from_bytes(r.value) for r in records):
        if event.type == "lead.assigned":
            assignments[event.subject].add(event.id)
    assert len(expected) > 100, f"the load was too light to prove anything: {len(expected)} leads"
    missing = expected - set(assignments)
    assert not missing, (
        f"{len(missing)} of {len(expected)} accepted leads never reached a handoff: {sorted(missing)[:5]}"
    )
    doubled = {lead: ids for lead, ids in assignments.items() if len(ids) > 1}
    assert not doubled, f"leads assigned twice: {doubled}"
    for service in ("ingest", "router"):  # one repair at start (no marker yet), then one per reset
        repairs = (tmp_path / f"{service}.log").read_text().count("broker_reset_repaired")
        assert repairs == 3, f"{service} repaired {repairs} times, expected 3"


def _assigned(records: list[ConsumerRecord[bytes, bytes]]) -> set[str]:
    events = (CloudEvent.from_bytes(r.value) for r in records)
    return {e.subject for e in events if e.type == "lead.assigned"}
