"""THE erasure test: one person seeded in every service of a running stack, erased with
`leadrelay erase`, then found nowhere: every row of every table of the stack's database is read
(tables enumerated from the schema), and the funnel counts are what they were. Another person
stays whole. Every service is its own process, on a real broker and a real database."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from sqlalchemy.ext.asyncio import AsyncEngine

from services.delivery.devreceiver import Receiver, Reply
from services.devstack import ROOT, ServiceProcess, start_service, stop_all, wait_ready
from shared.db import create_engine
from shared.events import CloudEvent, Topics
from shared.kafka.brokers import Broker
from tests.helpers.kafka_tools import read_topic
from tests.helpers.pii import find_values, table_names
from tests.helpers.stack import API_KEY, METRICS_HEADERS, e2e_env
from tests.integration.test_delivery_support import SECRET, config_dict, endpoint

pytestmark = [pytest.mark.e2e, pytest.mark.kafka, pytest.mark.db, pytest.mark.pairwise]
ADMIN_KEY = "e2e-admin-key"
KEY = {"X-API-Key": API_KEY}
ADA = {
    "email": "Ada.Lovelace@Analytical-Engines.example",
    "first_name": "Augusta",
    "last_name": "Byronesque",
    "phone": "+44 20 7946 0018",
    "company": "Analytical Engines",
    "title": "Chief Analyst",
    "employees": 900,
    "country": "US",
}
ADA_VALUES = [
    "ada.lovelace@analytical-engines.example",
    "Augusta",
    "Byronesque",
    "20 7946 0018",
    "442079460018",
]
BEN = {
    **ADA,
    "email": "ben.okafor@contoso.example",
    "first_name": "Benedikt",
    "last_name": "Okaforson",
    "phone": "+1 212 555 0147",
    "company": "Contoso",
    "title": "Buyer",
}
BEN_VALUES = ["ben.okafor@contoso.example", "Benedikt", "Okaforson"]


async def _until(what: str, check: Callable[[], Awaitable[bool]], timeout_s: float = 45.0) -> None:
    """Poll in the test's own loop (the database engine is bound to it)."""
    deadline = time.monotonic() + timeout_s
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout_s:.0f}s")
        await asyncio.sleep(0.3)


async def test_erased_person_is_nowhere_and_counts_are_unchanged(
    broker: Broker, database_url: str, topic_prefix: str, tmp_path: Path
) -> None:
    receiver = Receiver(lambda _: Reply(200))
    hook = await receiver.start()
    config = tmp_path / "leadrelay.yaml"
    config.write_text(yaml.safe_dump(config_dict(deliveries=[endpoint("sales-tool", hook)])))
    env = {
        **e2e_env(broker.bootstrap, database_url, topic_prefix),
        "LEADRELAY_CONFIG": str(config),
        "T_DELIVERY_SECRET": SECRET,
        "LEADRELAY_INGEST_ADMIN_API_KEY": ADMIN_KEY,
    }
    engine = create_engine(database_url)
    services: list[ServiceProcess] = []
    try:
        for name in ("metrics", "router", "delivery", "ingest"):
            services.append(start_service(name, env, tmp_path))
        await asyncio.to_thread(wait_ready, services)
        metrics, ingest = services[0], services[3]
        await asyncio.to_thread(_seed, ingest.url)

        # Seeded everywhere: each service holds Ada, and the sales tool heard of her assignment.
        async def seeded() -> bool:
            found = await find_values(engine, ADA_VALUES)
            wanted = {"ingest_journal", "router_profiles", "metrics_contacts", "delivery_leads"}
            heard = {_event(r)["subject"] for r in receiver.received}
            accepted = (await asyncio.to_thread(_funnel, metrics.url))["sal"] == 2
            return wanted <= set(found) and accepted and {"ada-1", "ben-1"} <= heard

        await _until("Ada in every service and both leads accepted", seeded)
        before = await asyncio.to_thread(_funnel, metrics.url)

        erased = await asyncio.to_thread(_erase_with_cli, env, ingest.url, ADA["email"].upper())
        assert sorted(erased) == ["ada-1", "ada-2"]

        # Every service has processed it: the sales tool got lead.erased for both of Ada's leads
        # (delivery erases before it plans), and no table anywhere holds her any more.
        async def followed() -> bool:
            told = {(e["type"], e["subject"]) for e in map(_event, receiver.received)}
            return {("lead.erased", "ada-1"), ("lead.erased", "ada-2")} <= told

        await _until("lead.erased delivered to the sales tool", followed)
        deadline = time.monotonic() + 30
        while (left := await find_values(engine, ADA_VALUES)) and time.monotonic() < deadline:
            await asyncio.sleep(0.3)
        assert left == {}, f"Ada is still in {left}"
        tables = await table_names(engine)
        assert {"ingest_journal", "router_decisions", "router_outbox", "metrics_contacts"} <= set(tables)
        assert {"metrics_events", "delivery_messages", "delivery_attempts"} <= set(tables)
        assert await find_values(engine, ADA_VALUES) == {}, "Ada is still somewhere"
        assert await asyncio.to_thread(_funnel, metrics.url) == before
        # Ben is untouched, everywhere he was.
        ben = await find_values(engine, BEN_VALUES)
        assert {"ingest_journal", "router_profiles", "metrics_contacts", "delivery_leads"} <= set(ben)
        # A metrics rebuilt from the topics (its own database and group, from the first offset) reads
        # Ada's capture and then her erasure: she does not come back, and it counts the same.
        rebuilt_url = f"sqlite+aiosqlite:///{tmp_path / 'metrics-rebuilt.db'}"
        rebuilt_env = {
            **env,
            "LEADRELAY_METRICS_DATABASE_URL": rebuilt_url,
            "LEADRELAY_METRICS_GROUP_ID": f"{topic_prefix}metrics-rebuilt",
        }
        (tmp_path / "rebuilt").mkdir()
        rebuilt = start_service("metrics", rebuilt_env, tmp_path / "rebuilt")
        services.append(rebuilt)
        await asyncio.to_thread(wait_ready, [rebuilt])

        async def caught_up() -> bool:
            return await asyncio.to_thread(_funnel, rebuilt.url) == before

        await _until("the rebuilt metrics counts what the live one counts", caught_up)
        rebuilt_db = create_engine(rebuilt_url)
        try:
            await _until(
                "the rebuilt metrics holds Ben's contact",
                lambda: _holds(rebuilt_db, BEN_VALUES, "metrics_contacts"),
            )
            assert await find_values(rebuilt_db, ADA_VALUES) == {}, "a replay of the topics brought Ada back"
        finally:
            await rebuilt_db.dispose()
        # What the stack published about the erasure names no one; the topic itself still holds the
        # original capture until retention removes it (docs/privacy.md says so).
        records = await read_topic(broker.bootstrap, Topics(topic_prefix).lead_events, 6, timeout_s=10)
        events = [CloudEvent.from_bytes(r.value) for r in records]
        assert {e.subject for e in events if e.type == "person.erased"} == {"ada-1", "ada-2"}
        assert not any(
            "lovelace" in r.value.decode().lower()
            for r, e in zip(records, events, strict=True)
            if e.type == "person.erased"
        )
        assert any("lovelace" in r.value.decode().lower() for r in records), "retention, not erasure"
    finally:
        await asyncio.to_thread(stop_all, services)
        await receiver.stop()
        await engine.dispose()


async def _holds(engine: AsyncEngine, values: list[str], table: str) -> bool:
    return table in await find_values(engine, values)


def _seed(ingest: str) -> None:
    """Two forms from Ada (two leads, one person), one from Ben; sales touch and accept both."""
    with httpx.Client(base_url=ingest, headers=KEY, timeout=10) as client:
        for body in ({**ADA, "lead_id": "ada-1"}, {**BEN, "lead_id": "ben-1"}, {**ADA, "lead_id": "ada-2"}):
            assert client.post("/v1/leads", json=body).status_code == 202
        for lead_id in ("ada-1", "ben-1"):  # the router orders them after the assignment (one partition)
            for kind in ("first_touch", "accepted"):
                answer = client.post(
                    "/v1/activities", json={"lead_id": lead_id, "kind": kind, "rep_id": "ana"}
                )
                assert answer.status_code == 202, answer.text


def _funnel(metrics: str) -> dict[str, int]:
    body = httpx.get(f"{metrics}/v1/funnel", headers=METRICS_HEADERS, timeout=5).json()
    return {step["stage"]: step["reached"] for step in body["steps"]}


def _event(request: Any) -> dict[str, Any]:
    event: dict[str, Any] = json.loads(request.body)
    return event


def _erase_with_cli(env: dict[str, str], ingest: str, email: str) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-m", "services", "erase", "--email", email, "--url", ingest],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "lovelace" not in (done.stdout + done.stderr).lower()  # the address is never printed
    line = next(line for line in done.stdout.splitlines() if "lead(s) erased" in line)
    return line.split("erased: ", 1)[1].split(", ")
