"""Ingest HTTP contract against the real broker and databases (the app runs in-process)."""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from services.ingest.bootstrap import bootstrap, create_app
from services.ingest.settings import IngestSettings
from shared.events import CloudEvent, LeadCaptured, Topics
from shared.kafka import ensure_topics
from shared.kafka.embedded import EmbeddedBroker
from shared.settings import CommonSettings
from tests.helpers.kafka_tools import read_to_end, read_topic

pytestmark = [pytest.mark.kafka, pytest.mark.db]
KEY = {"X-API-Key": "test-key"}
LEAD = {"email": "Ada.Novak@Northwind.example", "company": "Northwind", "employees": 120, "country": "us"}


def settings_for(bootstrap_servers: str, database_url: str, prefix: str, **extra: Any) -> IngestSettings:
    common = CommonSettings(
        kafka_bootstrap=bootstrap_servers,
        database_url=database_url,
        topic_prefix=prefix,
        kafka_partitions=2,
        kafka_send_timeout_s=2.0,
        kafka_request_timeout_ms=1500,
    )
    # Many apps in one process: no start-up heap freeze (a server's setting; see IngestSettings).
    extra.setdefault("freeze_heap", False)
    return IngestSettings(common=common, api_key=SecretStr("test-key"), max_body_bytes=2048, **extra)


@pytest.fixture
def client(broker: EmbeddedBroker, database_url: str, topic_prefix: str) -> Iterator[TestClient]:
    settings = settings_for(broker.bootstrap, database_url, topic_prefix, api_key_next=SecretStr("next-key"))
    with TestClient(create_app(bootstrap(settings))) as test_client:
        yield test_client


def lead_events(broker: EmbeddedBroker, prefix: str, expect: int, timeout_s: float = 10) -> list[CloudEvent]:
    records = asyncio.run(
        read_topic(broker.bootstrap, Topics(prefix).lead_events, expect, timeout_s=timeout_s)
    )
    return [CloudEvent.from_bytes(r.value) for r in records]


def all_lead_events(broker: EmbeddedBroker, prefix: str) -> list[CloudEvent]:
    """Every lead event on the topic now: whatever an answered request published is among them
    (its 202 or 200 came after the broker's ack), so a copy that must not exist is proven absent
    without waiting for it."""
    records = asyncio.run(read_to_end(broker.bootstrap, Topics(prefix).lead_events))
    return [CloudEvent.from_bytes(r.value) for r in records]


def test_lead_is_on_the_topic_before_the_202(
    client: TestClient, broker: EmbeddedBroker, topic_prefix: str
) -> None:
    response = client.post(
        "/v1/leads", json={**LEAD, "occurred_at": "2026-03-01T10:00:00+01:00"}, headers=KEY
    )
    assert response.status_code == 202
    body = response.json()
    [event] = lead_events(broker, topic_prefix, 1)
    assert (event.id, event.subject, event.type) == (body["event_id"], body["lead_id"], "lead.captured")
    assert event.time.isoformat() == "2026-03-01T09:00:00+00:00"  # event time, as the source said
    captured = event.payload(LeadCaptured)
    assert (captured.lead.email, captured.lead.country, captured.source) == (
        "ada.novak@northwind.example",
        "US",
        "api",
    )


def test_repeated_delivery_answers_200_with_the_original_ids(
    client: TestClient, broker: EmbeddedBroker, topic_prefix: str
) -> None:
    headers = {**KEY, "Idempotency-Key": "form-42"}
    first = client.post("/v1/leads", json=LEAD, headers=headers)
    again = client.post("/v1/leads", json=LEAD, headers=headers)
    assert (first.status_code, again.status_code) == (202, 200)
    assert again.json() == first.json()
    other = client.post("/v1/leads", json=LEAD, headers={**KEY, "Idempotency-Key": "form-43"})
    assert other.status_code == 202
    events = all_lead_events(broker, topic_prefix)
    assert [e.id for e in events].count(first.json()["event_id"]) == 1
    assert len(events) == 2


def test_one_idempotency_key_on_two_endpoints_is_two_deliveries(
    client: TestClient, broker: EmbeddedBroker, topic_prefix: str
) -> None:
    """A key is scoped by endpoint: the activity is not swallowed as a repeat of the lead."""
    headers = {**KEY, "Idempotency-Key": "same-key"}
    lead = client.post("/v1/leads", json=LEAD, headers=headers)
    won = {"lead_id": "lead-77", "kind": "won", "value": 5000, "rep_id": "ana"}
    activity = client.post("/v1/activities", json=won, headers=headers)
    assert (lead.status_code, activity.status_code) == (202, 202)
    assert activity.json()["lead_id"] == "lead-77"
    assert activity.json()["event_id"] != lead.json()["event_id"]
    events = lead_events(broker, topic_prefix, 2)
    assert sorted(e.type for e in events) == ["activity.recorded", "lead.captured"]
    assert len({e.id for e in events}) == 2
    again = client.post("/v1/activities", json=won, headers=headers)
    assert (again.status_code, again.json()) == (200, activity.json())


def test_a_key_reused_with_another_body_is_422_naming_the_key(client: TestClient) -> None:
    headers = {**KEY, "Idempotency-Key": "k-reused"}
    assert client.post("/v1/leads", json=LEAD, headers=headers).status_code == 202
    response = client.post("/v1/leads", json={**LEAD, "company": "Other"}, headers=headers)
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["header", "Idempotency-Key"]
    assert "k-reused" in error["msg"] and error["type"] == "idempotency_key_reused"


def test_a_repeat_is_recognised_after_a_restart(
    broker: EmbeddedBroker, database_url: str, topic_prefix: str
) -> None:
    """The ledger is durable: a new process (empty memory) still answers 200 with the original ids."""
    headers = {**KEY, "Idempotency-Key": "survives-restart"}
    settings = settings_for(broker.bootstrap, database_url, topic_prefix)
    with TestClient(create_app(bootstrap(settings))) as first:
        original = first.post("/v1/leads", json=LEAD, headers=headers)
    with TestClient(create_app(bootstrap(settings))) as second:
        again = second.post("/v1/leads", json=LEAD, headers=headers)
    assert (original.status_code, again.status_code) == (202, 200)
    assert again.json() == original.json()


def test_invalid_utf8_is_422_not_500(client: TestClient) -> None:
    for path in ("/v1/leads", "/v1/activities"):
        response = client.post(
            path, content=b'{"email": "\xff\xfe"}', headers={**KEY, "Content-Type": "application/json"}
        )
        assert response.status_code == 422, path
        response = client.post(
            path, content=b"\xff\xfe\x00{", headers={**KEY, "Content-Type": "application/json"}
        )
        assert response.status_code == 422, path


@pytest.mark.pairwise  # the key check ends before any I/O: one pass per backend pair
@pytest.mark.parametrize("headers", [{}, {"X-API-Key": "wrong"}, {"Authorization": "Bearer wrong"}])
def test_bad_or_missing_api_key_is_401(client: TestClient, headers: dict[str, str]) -> None:
    response = client.post("/v1/leads", json=LEAD, headers=headers)
    assert response.status_code == 401
    assert "API key" in response.json()["detail"]


def test_rotated_key_and_bearer_are_accepted(client: TestClient) -> None:
    assert client.post("/v1/leads", json=LEAD, headers={"X-API-Key": "next-key"}).status_code == 202
    assert (
        client.post("/v1/leads", json=LEAD, headers={"Authorization": "Bearer test-key"}).status_code == 202
    )


def test_wrong_media_type_is_415(client: TestClient) -> None:
    response = client.post(
        "/v1/leads", content=b"email=a@b.co", headers={**KEY, "Content-Type": "text/plain"}
    )
    assert response.status_code == 415
    assert "application/json" in response.json()["detail"]


def test_too_large_body_is_413(client: TestClient) -> None:
    big = {**LEAD, "custom": {"notes": "x" * 5000}}
    assert client.post("/v1/leads", json=big, headers=KEY).status_code == 413


@pytest.mark.pairwise  # validation ends before any I/O: one pass per backend pair
@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({**LEAD, "email": "not-an-email"}, "email"),
        ({**LEAD, "employees": -3}, "employees"),
        ({**LEAD, "favourite_colour": "red"}, "favourite_colour"),
        ({"company": "no email"}, "email"),
        ({**LEAD, "occurred_at": "2026-03-01T10:00:00"}, "occurred_at"),
    ],
)
def test_invalid_lead_is_422_naming_the_field(
    client: TestClient, payload: dict[str, Any], field: str
) -> None:
    response = client.post("/v1/leads", json=payload, headers=KEY)
    assert response.status_code == 422
    locations = [error["loc"] for error in response.json()["detail"]]
    assert ["body", field] in locations


def test_malformed_json_is_422(client: TestClient) -> None:
    response = client.post(
        "/v1/leads", content=b"{not json", headers={**KEY, "Content-Type": "application/json"}
    )
    assert response.status_code == 422


@pytest.mark.pairwise  # the kinds, not the backends, vary here: one pass per backend pair
@pytest.mark.parametrize(
    "activity",
    [
        {"kind": "first_touch", "channel": "call", "rep_id": "ana"},
        {"kind": "accepted", "rep_id": "ana"},
        {"kind": "rejected", "reason": "no_budget"},
        {"kind": "opportunity_created", "value": 12000, "expected_close": "2026-12-15"},
        {"kind": "stage_changed", "stage": "Negotiation"},
        {"kind": "won", "value": 12000},
        {"kind": "lost", "reason": "competitor"},
    ],
)
def test_the_whole_feedback_vocabulary_is_accepted(
    client: TestClient, broker: EmbeddedBroker, topic_prefix: str, activity: dict[str, Any]
) -> None:
    response = client.post("/v1/activities", json={"lead_id": "lead-9", **activity}, headers=KEY)
    assert response.status_code == 202, response.text
    [event] = lead_events(broker, topic_prefix, 1)
    assert {k: event.data[k] for k in activity} == activity


def test_activity_is_accepted(client: TestClient, broker: EmbeddedBroker, topic_prefix: str) -> None:
    response = client.post(
        "/v1/activities", json={"lead_id": "lead-1", "kind": "accepted", "rep_id": "ana"}, headers=KEY
    )
    assert response.status_code == 202
    [event] = lead_events(broker, topic_prefix, 1)
    assert (event.type, event.subject, event.data["kind"]) == ("activity.recorded", "lead-1", "accepted")


def test_operational_endpoints(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["checks"] == {"database": True, "broker": True}
    client.post("/v1/leads", json=LEAD, headers=KEY)
    assert 'leadrelay_ingest_requests_total{endpoint="leads",status="202"}' in client.get("/metrics").text
    spec = client.get("/openapi.json").json()
    schema = spec["paths"]["/v1/leads"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert "email" in schema["properties"]


def test_broker_down_is_503_then_recovers_without_restart(database_url: str, topic_prefix: str) -> None:
    own = EmbeddedBroker()
    own.start()
    try:
        with TestClient(
            create_app(bootstrap(settings_for(own.bootstrap, database_url, topic_prefix)))
        ) as client:
            first = client.post("/v1/leads", json=LEAD, headers=KEY)
            assert first.status_code == 202
            own.kill()
            down = client.post("/v1/leads", json=LEAD, headers=KEY)
            assert down.status_code == 503
            assert down.headers["Retry-After"] == "2"
            assert client.get("/readyz").status_code == 503
            own.start()  # same port, empty memory storage: the topics must come back
            asyncio.run(_recreate_topics(own.bootstrap, topic_prefix))
            accepted = _post_until_accepted(client)
            assert accepted.status_code == 202
        # The reset watcher may also have put back what the restarted broker forgot (the first
        # lead, from the journal, and a copy of the second with its id): all of them captures,
        # the accepted one among them, nothing else.
        events = lead_events(own, topic_prefix, 3, timeout_s=3)
        assert {event.type for event in events} == {"lead.captured"}
        ids = {event.id for event in events}
        assert accepted.json()["event_id"] in ids
        assert ids <= {accepted.json()["event_id"], first.json()["event_id"]}
    finally:
        own.stop()


async def _recreate_topics(bootstrap_servers: str, prefix: str) -> None:
    await ensure_topics(bootstrap_servers, Topics(prefix).all(), partitions=2)


def _post_until_accepted(client: TestClient, attempts: int = 20) -> httpx.Response:
    """A client retrying after a 503, as Retry-After tells it to (shortened for the test)."""
    for _ in range(attempts - 1):
        response = client.post("/v1/leads", json=LEAD, headers=KEY)
        if response.status_code == 202:
            return response
        time.sleep(0.5)
    return client.post("/v1/leads", json=LEAD, headers=KEY)


def test_an_activity_can_address_its_lead_by_email(
    client: TestClient, broker: EmbeddedBroker, topic_prefix: str
) -> None:
    captured = client.post("/v1/leads", json={**LEAD, "email": "Kim.Lee@Example.com"}, headers=KEY)
    assert captured.status_code == 202
    touch = {"email": "kim.lee@example.com", "kind": "first_touch", "channel": "call", "rep_id": "ana"}
    for _ in range(20):  # the index is written right after the capture's ack
        response = client.post("/v1/activities", json=touch, headers=KEY)
        if response.status_code != 404:
            break
        time.sleep(0.05)
    assert response.status_code == 202, response.text
    assert response.json()["lead_id"] == captured.json()["lead_id"]
    events = lead_events(broker, topic_prefix, 2)
    activity = next(e for e in events if e.type == "activity.recorded")
    assert activity.subject == captured.json()["lead_id"] and "email" not in activity.data
    unknown = client.post("/v1/activities", json={**touch, "email": "nobody@example.com"}, headers=KEY)
    assert unknown.status_code == 404
    neither = client.post("/v1/activities", json={"kind": "won"}, headers=KEY)
    assert neither.status_code == 422


def test_a_server_freezes_its_start_up_heap_tunes_the_collector_and_a_stopped_app_lets_both_go(
    broker: EmbeddedBroker, database_url: str, topic_prefix: str
) -> None:
    """The server's default (IngestSettings.freeze_heap): what start-up left alive is moved out of
    the collector's way while the app serves, and given back when it stops (the other in-process
    tests turn the freeze off: they build app after app)."""
    assert gc.get_freeze_count() == 0
    interpreters = gc.get_threshold()
    settings = settings_for(broker.bootstrap, database_url, topic_prefix, freeze_heap=True)
    with TestClient(create_app(bootstrap(settings))) as client:
        frozen, serving = gc.get_freeze_count(), gc.get_threshold()
        assert client.post("/v1/leads", json=LEAD, headers=KEY).status_code == 202
    assert frozen > 10_000  # modules, schemas, compiled statements: the whole start-up heap
    assert gc.get_freeze_count() == 0
    # The young generation collected less often while it serves (bootstrap.tune_collector), and
    # the interpreter's thresholds back after.
    assert serving == (10_000, *interpreters[1:]) and gc.get_threshold() == interpreters
