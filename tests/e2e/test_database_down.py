"""The database goes down for real (a PostgreSQL cluster of this test's own, stopped under load)
and comes back: consumption pauses, nothing is committed past what is stored, everything
resumes with nothing lost or doubled; ingest keeps answering (its idempotency store is the
same database) and never loses a lead."""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from aiokafka import ConsumerRecord

from services.devstack import start_service, stop_all, wait_ready
from shared.events import CloudEvent, Topics
from shared.kafka.brokers import Broker
from tests.helpers.kafka_tools import read_until
from tests.helpers.pg_cluster import OwnCluster, pg_bin
from tests.helpers.stack import API_KEY, e2e_env

pytestmark = [pytest.mark.e2e, pytest.mark.kafka, pytest.mark.db]
LEADS = 45
DOWN_FROM, DOWN_UNTIL = 15, 30


@pytest.fixture
def cluster() -> Iterator[OwnCluster]:
    if pg_bin() is None:
        pytest.skip(
            "PostgreSQL server binaries are not installed (apt-get install postgresql; .ci/run does it)"
        )
    own = OwnCluster()
    own.init()
    own.start()
    yield own
    own.destroy()


def test_database_down_under_load_pauses_and_resumes_losing_nothing(
    broker: Broker, cluster: OwnCluster, topic_prefix: str, tmp_path: Path
) -> None:
    env = e2e_env(broker.bootstrap, cluster.url, topic_prefix)
    services = [start_service(name, env, tmp_path) for name in ("ingest", "router")]
    ingest, router = services
    answers: dict[int, int] = {}
    router_ready_while_down: list[int] = []
    try:
        wait_ready(services)
        with httpx.Client(headers={"X-API-Key": API_KEY}, timeout=15) as client:
            for n in range(LEADS):
                if n == DOWN_FROM:
                    cluster.stop("immediate")  # a crash of the database server, not a clean shutdown
                if n == DOWN_UNTIL:
                    router_ready_while_down.append(client.get(f"{router.url}/readyz").status_code)
                    cluster.start()
                lead = {
                    "lead_id": f"db-{n}",
                    "email": f"p{n}@acme.example",
                    "employees": 300,
                    "country": "US",
                }
                answers[n] = _post_until_accepted(client, f"{ingest.url}/v1/leads", lead, key=f"k-{n}")
                if DOWN_FROM <= n < DOWN_UNTIL:
                    time.sleep(0.1)  # the outage lasts a few seconds of steady traffic
        records = asyncio.run(
            read_until(broker.bootstrap, Topics(topic_prefix).handoffs, _all_assigned, timeout_s=120)
        )
    finally:
        codes = stop_all(services)
    assert set(answers.values()) <= {200, 202}, answers
    assert router_ready_while_down == [503], "router /readyz said ready while its database was down"
    assigned: dict[str, set[str]] = defaultdict(set)
    for event in (CloudEvent.from_bytes(r.value) for r in records):
        if event.type == "lead.assigned":
            assigned[event.subject].add(event.id)
    assert sorted(assigned) == sorted(f"db-{n}" for n in range(LEADS)), "a lead was lost"
    assert all(len(ids) == 1 for ids in assigned.values()), "a lead was assigned twice"
    assert codes == {"ingest": 0, "router": 0}, f"services did not stop cleanly: {codes}"


def _post_until_accepted(client: httpx.Client, url: str, lead: dict[str, object], key: str) -> int:
    """A client that retries a 503 after Retry-After (shortened), as the contract tells it to."""
    status = 0
    for _ in range(60):
        status = client.post(url, json=lead, headers={"Idempotency-Key": key}).status_code
        if status in (200, 202):
            return status
        assert status == 503, f"not a retryable answer: {status}"
        time.sleep(0.5)
    return status


def _all_assigned(records: list[ConsumerRecord[bytes, bytes]]) -> bool:
    events = (CloudEvent.from_bytes(r.value) for r in records)
    return len({e.subject for e in events if e.type == "lead.assigned"}) >= LEADS
