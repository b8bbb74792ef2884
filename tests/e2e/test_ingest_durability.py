"""Ingest under load while the broker stops, and while ingest itself is told to stop.

The ledger: every request's answer is recorded. Every 202 must be on the topic; every other
answer must be retryable (503 + Retry-After), and retrying it with the same Idempotency-Key
must end in a 202/200 whose event is on the topic: nothing acknowledged is lost, nothing is
accepted twice. The broker "stops" by SIGSTOP (unresponsive, as a hung or partitioned broker),
which both brokers survive with their data, so the topic can be read back afterwards.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from services.devstack import ServiceProcess, start_service, wait_ready
from shared.events import CloudEvent, Topics
from shared.kafka.brokers import Broker, BrokerKind, create_broker
from tests.helpers.kafka_tools import read_topic
from tests.helpers.stack import API_KEY, KAFKA_WANTED, e2e_env

pytestmark = [pytest.mark.e2e, pytest.mark.kafka, pytest.mark.db]
KINDS: list[BrokerKind] = ["embedded", *(["kafka"] if KAFKA_WANTED else [])]  # type: ignore[list-item]


@dataclass
class Ledger:
    accepted: dict[str, str] = field(default_factory=dict)  # idempotency key -> event id
    retryable: list[str] = field(default_factory=list)  # keys answered 503 + Retry-After
    other: Counter[str] = field(default_factory=Counter)  # anything else: must stay empty
    unanswered: int = 0


@pytest.fixture(params=KINDS)
def own_broker(request: pytest.FixtureRequest, tmp_path: Path) -> Broker:
    broker = create_broker(request.param, log_path=tmp_path / "broker.log")
    broker.start()
    yield broker  # type: ignore[misc]
    if broker.pid:
        os.kill(broker.pid, signal.SIGCONT)
    broker.stop()


def _ingest(broker: Broker, tmp_path: Path, prefix: str) -> ServiceProcess:
    env = e2e_env(broker.bootstrap, f"sqlite+aiosqlite:///{tmp_path / 'ingest.db'}", prefix)
    env |= {"LEADRELAY_KAFKA_SEND_TIMEOUT_S": "2", "LEADRELAY_KAFKA_REQUEST_TIMEOUT_MS": "1500"}
    service = start_service("ingest", env, tmp_path)
    wait_ready([service])
    return service


async def _post(client: httpx.AsyncClient, url: str, key: str, ledger: Ledger) -> None:
    lead = {"email": f"{key}@load.example", "company": "Load", "employees": 100, "country": "US"}
    try:
        response = await client.post(url, json=lead, headers={"X-API-Key": API_KEY, "Idempotency-Key": key})
    except httpx.TransportError:  # no answer (the server is gone): the client retries it
        ledger.retryable.append(key)
        ledger.unanswered += 1
        return
    if response.status_code in (200, 202):
        ledger.accepted[key] = response.json()["event_id"]
    elif response.status_code == 503 and response.headers.get("Retry-After"):
        ledger.retryable.append(key)
    else:
        ledger.other[str(response.status_code)] += 1


async def _load(url: str, ledger: Ledger, seconds: float, workers: int = 16, tag: str = "k") -> None:
    deadline = time.monotonic() + seconds
    async with httpx.AsyncClient(timeout=15) as client:

        async def worker(n: int) -> None:
            i = 0
            while time.monotonic() < deadline:
                await _post(client, url, f"{tag}-{n}-{i}", ledger)
                i += 1

        await asyncio.gather(*(worker(n) for n in range(workers)))


def _on_topic(broker: Broker, prefix: str, expect: int) -> set[str]:
    records = asyncio.run(read_topic(broker.bootstrap, Topics(prefix).lead_events, expect, timeout_s=30))
    return {CloudEvent.from_bytes(r.value).id for r in records}


def test_broker_stops_mid_load_every_202_is_on_the_topic(own_broker: Broker, tmp_path: Path) -> None:
    prefix = "durable."
    ingest = _ingest(own_broker, tmp_path, prefix)
    url = f"{ingest.url}/v1/leads"
    ledger = Ledger()
    assert own_broker.pid is not None

    async def scenario() -> None:
        load = asyncio.create_task(_load(url, ledger, seconds=9))
        await asyncio.sleep(2.5)
        os.kill(own_broker.pid, signal.SIGSTOP)  # type: ignore[arg-type]
        await asyncio.sleep(4)
        os.kill(own_broker.pid, signal.SIGCONT)  # type: ignore[arg-type]
        await load

    try:
        asyncio.run(scenario())
        assert not ledger.other, f"non-retryable answers: {dict(ledger.other)}"
        assert ledger.retryable, "the broker stop never showed: the test proved nothing"
        first_accepted = dict(ledger.accepted)
        # The clients retry what was refused, with the same keys, as Retry-After tells them.
        pending = list(ledger.retryable)
        for _ in range(20):
            if not pending:
                break
            retry = Ledger()
            asyncio.run(_retry(url, pending, retry))
            ledger.accepted.update(retry.accepted)
            pending = retry.retryable
            time.sleep(0.5)
        assert not pending, f"{len(pending)} requests never accepted after the broker came back"
        on_topic = _on_topic(own_broker, prefix, len(ledger.accepted))
        missing = set(ledger.accepted.values()) - on_topic
        assert not missing, (
            f"{len(missing)} of {len(ledger.accepted)} acknowledged events are not on the topic"
        )
        assert len(set(ledger.accepted.values())) == len(ledger.accepted)  # one event per delivery key
        print(
            f"\nledger: {len(first_accepted)} accepted under load, {len(ledger.retryable)} answered 503 "
            f"and accepted on retry; {len(ledger.accepted)} distinct events, all on the topic"
        )
    finally:
        ingest.child.terminate()
        ingest.child.wait(20)


async def _retry(url: str, keys: list[str], ledger: Ledger) -> None:
    async with httpx.AsyncClient(timeout=15) as client:
        await asyncio.gather(*(_post(client, url, key, ledger) for key in keys))


def test_sigterm_under_load_finishes_in_flight_and_loses_nothing(own_broker: Broker, tmp_path: Path) -> None:
    prefix = "sigterm."
    ingest = _ingest(own_broker, tmp_path, prefix)
    ledger = Ledger()

    async def scenario() -> float:
        load = asyncio.create_task(_load(f"{ingest.url}/v1/leads", ledger, seconds=5, tag="t"))
        await asyncio.sleep(2)
        started = time.monotonic()
        ingest.child.terminate()  # SIGTERM, as an orchestrator does
        await load
        return started

    started = asyncio.run(scenario())
    code = ingest.child.wait(25)
    took = time.monotonic() - started
    assert code == 0, f"ingest exited with {code}; see {ingest.log}"
    assert took < 20, f"graceful shutdown took {took:.1f}s"
    assert ledger.accepted, "no request was accepted before the stop"
    assert not ledger.other, f"answers that are neither accepted nor retryable: {dict(ledger.other)}"
    on_topic = _on_topic(own_broker, prefix, len(ledger.accepted))
    assert set(ledger.accepted.values()) <= on_topic
