"""POST /v1/erasures against the real broker and databases (the app in-process): ingest finds every
lead of the address, publishes one `person.erased` per lead (never the email), and erases its own
copies; the admin key is its own; a second erasure, or an unknown address, finds nothing."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import TypeVar

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncEngine

from services.ingest.bootstrap import bootstrap, create_app
from services.ingest.repository import JournalRepository
from shared.db import create_engine, create_session_factory
from shared.events import CloudEvent, LeadCaptured, PersonErased
from shared.kafka.embedded import EmbeddedBroker
from shared.kafka.producer import OutgoingMessage
from tests.helpers.pii import find_values
from tests.integration.test_ingest_api import KEY, lead_events, settings_for

pytestmark = [pytest.mark.kafka, pytest.mark.db]
T = TypeVar("T")
ADMIN = {"X-API-Key": "admin-key"}
ADA = {"email": "Ada.Lovelace@Analytical.example", "first_name": "Augusta", "phone": "+44 20 7946 0018"}
ADA_VALUES = ["ada.lovelace@analytical.example", "Augusta", "20 7946 0018"]


@pytest.fixture
def client(broker: EmbeddedBroker, database_url: str, topic_prefix: str) -> Iterator[TestClient]:
    settings = settings_for(
        broker.bootstrap, database_url, topic_prefix, admin_api_key=SecretStr("admin-key")
    )
    with TestClient(create_app(bootstrap(settings))) as test_client:
        yield test_client


def test_erasure_publishes_one_event_per_lead_and_erases_ingests_copies(
    client: TestClient, broker: EmbeddedBroker, topic_prefix: str, database_url: str
) -> None:
    ids = [
        client.post("/v1/leads", json={**ADA, "lead_id": lead_id}, headers=KEY).json()["lead_id"]
        for lead_id in ("ada-1", "ada-2")
    ]
    ben = client.post("/v1/leads", json={"email": "ben@contoso.example", "lead_id": "ben-1"}, headers=KEY)
    assert ben.status_code == 202
    assert "ingest_journal" in _in_db(database_url, lambda e: find_values(e, ADA_VALUES))

    before = _erasure_counters(client)
    answer = client.post("/v1/erasures", json={"email": " ada.lovelace@analytical.EXAMPLE"}, headers=ADMIN)
    assert answer.status_code == 202, answer.text
    body = answer.json()
    assert (sorted(body["lead_ids"]), body["events"]) == (sorted(ids), 2)
    after = _erasure_counters(client)
    assert (after[0] - before[0], after[1] - before[1]) == (1.0, 2.0)  # one erasure, two leads

    events = lead_events(broker, topic_prefix, 5)
    erased = [e for e in events if e.type == "person.erased"]
    assert sorted(e.subject for e in erased) == sorted(ids)  # keyed by lead: after its capture
    assert {e.payload(PersonErased).erasure_id for e in erased} == {body["erasure_id"]}
    assert not any("lovelace" in e.model_dump_json().lower() for e in erased)

    assert _in_db(database_url, lambda e: find_values(e, ADA_VALUES)) == {}
    # What a republish after a broker reset would send for Ada: her captures, erased but still
    # valid events, then the erasure events, in publish order.
    journaled = [CloudEvent.from_bytes(m.value) for _, _, m in _in_db(database_url, _journal)]
    ada = [e for e in journaled if e.subject in ids]
    assert [e.type for e in ada] == ["lead.captured"] * 2 + ["person.erased"] * 2
    assert {e.payload(LeadCaptured).lead.email.split("@")[1] for e in ada[:2]} == {"erased.invalid"}
    assert "ingest_journal" in _in_db(database_url, lambda e: find_values(e, ["ben@contoso.example"]))
    # Addressing Ada by email is gone with her; Ben still works.
    activity = {"email": "ada.lovelace@analytical.example", "kind": "first_touch"}
    assert client.post("/v1/activities", json=activity, headers=KEY).status_code == 404
    activity = {"email": "ben@contoso.example", "kind": "first_touch"}
    assert client.post("/v1/activities", json=activity, headers=KEY).status_code == 202

    again = client.post("/v1/erasures", json={"email": "ada.lovelace@analytical.example"}, headers=ADMIN)
    assert again.status_code == 202 and again.json()["lead_ids"] == []
    assert "nothing to erase" in again.json()["detail"]


def _erasure_counters(client: TestClient) -> tuple[float, float]:
    """leadrelay_ingest_erasures_total and leadrelay_ingest_erased_leads_total from /metrics."""
    values = {"leadrelay_ingest_erasures_total": 0.0, "leadrelay_ingest_erased_leads_total": 0.0}
    for line in client.get("/metrics").text.splitlines():
        name, _, value = line.partition(" ")
        if name in values:
            values[name] = float(value)
    return values["leadrelay_ingest_erasures_total"], values["leadrelay_ingest_erased_leads_total"]


def _in_db(url: str, query: Callable[[AsyncEngine], Awaitable[T]]) -> T:
    """One query on an engine of its own (an asyncpg engine belongs to the loop that made it)."""

    async def run() -> T:
        engine = create_engine(url)
        try:
            return await query(engine)
        finally:
            await engine.dispose()

    return asyncio.run(run())


async def _journal(engine: AsyncEngine) -> list[tuple[int, str, OutgoingMessage]]:
    async with create_session_factory(engine)() as session:
        return await JournalRepository(session).since(datetime.now(UTC) - timedelta(hours=1), 0, 100)


def test_erasure_needs_the_admin_key_and_an_email(client: TestClient) -> None:
    body = {"email": "someone@example.org"}
    assert client.post("/v1/erasures", json=body).status_code == 401
    assert client.post("/v1/erasures", json=body, headers=KEY).status_code == 401  # the integrations' key
    for bad in ({"email": "not-an-email"}, {}, {"email": "a@b.c", "extra": 1}, {"email": 5}):
        assert client.post("/v1/erasures", json=bad, headers=ADMIN).status_code == 422, bad
    answer = client.post("/v1/erasures", content=b"email", headers=ADMIN)
    assert answer.status_code == 415


def test_outside_dev_the_admin_api_is_closed_until_a_key_is_set() -> None:
    from services.ingest.settings import IngestSettings
    from shared.settings import CommonSettings

    production = CommonSettings(environment="production")
    real = SecretStr("f3c1e0b27a9d4c5e8b6a1d0f2e4c6a8b")
    assert IngestSettings(common=production, api_key=real).admin_key is None
    assert IngestSettings(common=CommonSettings(environment="dev")).admin_key == b"dev-admin-key"
    with pytest.raises(ValueError, match="LEADRELAY_INGEST_ADMIN_API_KEY"):
        IngestSettings(common=production, api_key=real, admin_api_key=SecretStr("dev-admin-key"))
