"""The front door (services/ingest/front_door.py) answers exactly what the routed FastAPI path
answers, for every kind of request a form tool or an integration sends, good and bad; and it
counts what it answers in the same Prometheus series."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY
from starlette.types import Receive, Scope, Send

from services.ingest.bootstrap import bootstrap, create_app
from services.ingest.front_door import IngestApp
from services.ingest.sources.samples import load_sample, signed_request
from tests.integration.test_ingest_api import settings_for
from tests.integration.test_webhooks_api import KINDS, SECRET, _config, env, graph_url  # noqa: F401

pytestmark = [pytest.mark.kafka, pytest.mark.db]
ROUTED = "x-test-routed"  # this test's switch: the request goes through FastAPI's stack instead


class EitherPath:
    """The ingest app, entered by its front door or, when the request says so, by FastAPI's own
    __call__ (the middleware stack and the router), so both answers can be compared."""

    def __init__(self, app: IngestApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and (ROUTED.encode(), b"1") in scope["headers"]:
            await FastAPI.__call__(self.app, scope, receive, send)
        else:
            await self.app(scope, receive, send)


@pytest.fixture
def client(
    env: None,  # noqa: F811
    broker: Any,
    database_url: str,
    topic_prefix: str,
    graph_url: str,  # noqa: F811
) -> Iterator[TestClient]:
    settings = settings_for(broker.bootstrap, database_url, topic_prefix)
    app = create_app(bootstrap(settings, _config(graph_url)))
    assert isinstance(app, IngestApp)
    with TestClient(EitherPath(app)) as test_client:
        yield test_client


def _requests() -> list[tuple[str, str, dict[str, str], bytes]]:
    """(name, path, headers, body): each refusal the write endpoints have, and acceptances."""
    key = {"X-API-Key": "test-key", "Content-Type": "application/json"}
    lead = b'{"email": "ada@northwind.example", "company": "Northwind"}'
    url = "http://testserver/v1/sources/standard/webhooks"
    signed, body = signed_request(
        "standard", SECRET["standard"], load_sample("standard"), datetime.now(UTC), url
    )
    stale, stale_body = signed_request(
        "standard", SECRET["standard"], load_sample("standard"), datetime.now(UTC) - timedelta(hours=1), url
    )
    return [
        ("no key", "/v1/leads", {"Content-Type": "application/json"}, lead),
        ("wrong key", "/v1/leads", {**key, "X-API-Key": "nope"}, lead),
        (
            "bearer key",
            "/v1/leads",
            {"Authorization": "Bearer test-key", "Content-Type": "application/json"},
            lead,
        ),
        ("form body", "/v1/leads", {**key, "Content-Type": "text/plain"}, lead),
        ("too large", "/v1/leads", key, b'{"email": "' + b"a" * 4096 + b'@x.example"}'),
        ("not json", "/v1/leads", key, b"{email"),
        ("bad field", "/v1/leads", key, b'{"email": "not an address"}'),
        ("long key", "/v1/leads", {**key, "Idempotency-Key": "k" * 300}, lead),
        ("keyed", "/v1/leads", {**key, "Idempotency-Key": "front-door-1"}, lead),
        (
            "key reused",
            "/v1/leads",
            {**key, "Idempotency-Key": "front-door-1"},
            lead[:-1] + b', "title": "CTO"}',
        ),
        (
            "activity",
            "/v1/activities",
            {**key, "Idempotency-Key": "a-1"},
            b'{"lead_id": "l-1", "kind": "accepted"}',
        ),
        ("unknown email", "/v1/activities", key, b'{"email": "nobody@x.example", "kind": "accepted"}'),
        ("bad activity", "/v1/activities", key, b'{"lead_id": "l-1", "kind": "teleported"}'),
        ("unknown source", "/v1/sources/nosuch/webhooks", signed, body),
        ("signed", "/v1/sources/standard/webhooks", signed, body),
        ("tampered", "/v1/sources/standard/webhooks", signed, body[:-1] + b" }"),
        ("stale", "/v1/sources/standard/webhooks", stale, stale_body),
    ]


def _answers(client: TestClient, routed: bool) -> list[tuple[str, int, Any, str | None]]:
    switch = {ROUTED: "1"} if routed else {}
    out = []
    for name, path, headers, body in _requests():
        response = client.post(path, content=body, headers={**headers, **switch})
        detail = response.json()
        if response.status_code == 202:  # a new lead each time: new ids, the same shape
            detail = sorted(detail)
        out.append((name, response.status_code, detail, response.headers.get("www-authenticate")))
    return out


def _count(source: str, status: str) -> float:
    value = REGISTRY.get_sample_value(
        "leadrelay_ingest_http_requests_total", {"source": source, "status": status}
    )
    return value or 0.0


def test_the_front_door_answers_what_the_routed_path_answers(client: TestClient) -> None:
    # Routed first, then the front door: the keyed requests are repeats the second time round,
    # so run the routed path twice and compare its second pass with the front door's.
    _answers(client, routed=True)
    routed = _answers(client, routed=True)
    front = _answers(client, routed=False)
    assert front == routed
    statuses = {name: status for name, status, _, _ in front}
    assert statuses == {
        "no key": 401,
        "wrong key": 401,
        "bearer key": 202,
        "form body": 415,
        "too large": 413,
        "not json": 422,
        "bad field": 422,
        "long key": 422,
        "keyed": 200,
        "key reused": 422,
        "activity": 200,
        "unknown email": 404,
        "bad activity": 422,
        "unknown source": 404,
        "signed": 200,
        "tampered": 401,
        "stale": 401,
    }


def test_the_front_door_counts_every_answer_by_source(client: TestClient) -> None:
    before = (_count("api", "401"), _count("api", "202"), _count("standard", "202"), _count("unknown", "404"))
    key = {"X-API-Key": "test-key"}
    assert client.post("/v1/leads", json={"email": "a@b.example"}).status_code == 401
    assert client.post("/v1/leads", json={"email": "a@b.example"}, headers=key).status_code == 202
    url = "http://testserver/v1/sources/standard/webhooks"
    headers, body = signed_request(
        "standard", SECRET["standard"], load_sample("standard"), datetime.now(UTC), url
    )
    assert client.post(url, content=body, headers=headers).status_code == 202
    assert client.post("/v1/sources/nosuch/webhooks", content=body, headers=headers).status_code == 404
    after = (_count("api", "401"), _count("api", "202"), _count("standard", "202"), _count("unknown", "404"))
    assert [a - b for a, b in zip(after, before, strict=True)] == [1, 1, 1, 1]
