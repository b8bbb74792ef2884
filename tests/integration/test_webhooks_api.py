"""`POST /v1/sources/{source}/webhooks` end to end: every vendor kind, signed real-shaped samples on
the real broker and databases; tampered, stale, replayed and unknown refused; rotation; 429."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from fastapi.testclient import TestClient

from services.ingest.bootstrap import bootstrap, create_app
from services.ingest.sources.samples import load_sample, signed_request
from shared.config import parse_config
from shared.events import LeadCaptured
from tests.integration.test_ingest_api import all_lead_events, settings_for

pytestmark = [pytest.mark.kafka, pytest.mark.db]

KINDS = ["hubspot", "typeform", "tally", "webflow", "calendly", "facebook", "standard"]
SECRET = {kind: f"{kind}-secret-0123456789" for kind in KINDS}
SECRET["standard"] = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
NEXT = {kind: f"{kind}-next-secret" for kind in KINDS}
NEXT["standard"] = "whsec_dGhlIG5leHQgc2VjcmV0IGZvciByb3RhdGlvbg=="
EXPECTED_EMAIL = {
    "hubspot": "maria.garcia@acme-robotics.com",
    "typeform": "laura.chen@northwind-logistics.com",
    "tally": "tomasz.nowak@vistula-energy.pl",
    "webflow": "zaphod@heartofgold.ai",
    "calendly": "amara.okafor@lagos-fintech.ng",
    "facebook": "joe.example@contoso-builders.com",
    "standard": "priya.raman@tessellate.io",
}


@pytest.fixture(scope="module")
def graph_url() -> Iterator[str]:
    """A local HTTP server standing in for the Graph API: answers the sample lead for any id."""
    lead = json.dumps(load_sample("facebook_graph_lead")).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(lead)))
            self.end_headers()
            self.wfile.write(lead)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _config(graph_url: str, per_second: float = 100.0, burst: int = 100) -> Any:
    sources: dict[str, Any] = {"api": {}}
    for kind in KINDS:
        sources[kind] = {
            "kind": kind,
            "secret_env": [f"T_{kind.upper()}_SECRET", f"T_{kind.upper()}_SECRET_NEXT"],
            "rate_limit": {"per_second": per_second, "burst": burst},
        }
    sources["facebook"]["facebook"] = {
        "verify_token_env": "T_FB_VERIFY",
        "access_token_env": "T_FB_TOKEN",
        "graph_url": graph_url,
    }
    sources["standard"]["field_map"] = {
        "email": "data.email",
        "company": "data.company",
        "title": "data.job_title",
    }
    text = json.dumps(
        {
            "version": 1,
            "sources": sources,
            "qualification": {
                "version": "t",
                "rules": [{"name": "all", "when": "true", "outcome": "qualified"}],
            },
            "routing": {"teams": [{"name": "t", "reps": [{"id": "ana", "name": "Ana"}]}]},
        }
    )
    return parse_config(text, "test.yaml")


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> None:
    for kind in KINDS:
        monkeypatch.setenv(f"T_{kind.upper()}_SECRET", SECRET[kind])
        monkeypatch.setenv(f"T_{kind.upper()}_SECRET_NEXT", NEXT[kind])
    monkeypatch.setenv("T_FB_VERIFY", "verify-me")
    monkeypatch.setenv("T_FB_TOKEN", "page-token")


@pytest.fixture
def client(
    env: None, broker: Any, database_url: str, topic_prefix: str, graph_url: str
) -> Iterator[TestClient]:
    settings = settings_for(broker.bootstrap, database_url, topic_prefix).model_copy(
        update={"max_body_bytes": 65536}
    )
    with TestClient(create_app(bootstrap(settings, _config(graph_url)))) as test_client:
        yield test_client


def _post(
    client: TestClient, kind: str, secret: str, *, at: datetime | None = None, tamper: bool = False
) -> Any:
    url = f"http://testserver/v1/sources/{kind}/webhooks"
    headers, body = signed_request(kind, secret, load_sample(kind), at or datetime.now(UTC), url)
    if tamper:
        body = body[:-1] + b" " + body[-1:]  # one byte more: still valid JSON, no longer what was signed
    return client.post(url, content=body, headers=headers)


@pytest.mark.parametrize("kind", KINDS)
def test_signed_vendor_payload_is_captured_once(
    client: TestClient, broker: Any, topic_prefix: str, kind: str
) -> None:
    first = _post(client, kind, SECRET[kind])
    assert first.status_code == 202, first.text
    again = _post(client, kind, SECRET[kind])  # the vendor retries the same delivery
    assert again.status_code == 200, again.text
    assert (again.json()["event_id"], again.json()["lead_id"]) == (
        first.json()["event_id"],
        first.json()["lead_id"],
    )
    events = all_lead_events(broker, topic_prefix)
    assert len(events) == 1
    captured = events[0].payload(LeadCaptured)
    assert (captured.source, captured.lead.email) == (kind, EXPECTED_EMAIL[kind])
    assert events[0].id == first.json()["event_id"]
    if kind == "calendly":
        assert "meeting_booked" in captured.lead.signals


@pytest.mark.pairwise  # signature checks end before any I/O: one pass per backend pair
@pytest.mark.parametrize("kind", KINDS)
def test_the_rotated_secret_is_valid_too(client: TestClient, kind: str) -> None:
    assert _post(client, kind, NEXT[kind]).status_code == 202


@pytest.mark.pairwise  # signature checks end before any I/O: one pass per backend pair
@pytest.mark.parametrize("kind", KINDS)
def test_tampered_or_wrongly_signed_is_401(client: TestClient, kind: str) -> None:
    assert _post(client, kind, SECRET[kind], tamper=True).status_code == 401
    assert _post(client, kind, "not-the-secret-" + kind).status_code in (401,)


@pytest.mark.pairwise  # signature checks end before any I/O: one pass per backend pair
@pytest.mark.parametrize("kind", ["hubspot", "webflow", "calendly", "standard"])
def test_stale_signature_is_401(client: TestClient, kind: str) -> None:
    response = _post(client, kind, SECRET[kind], at=datetime.now(UTC) - timedelta(minutes=10))
    assert response.status_code == 401
    assert "window" in response.json()["detail"] or "timestamp" in response.json()["detail"]


def test_unknown_source_is_404_and_wrong_media_type_415(client: TestClient) -> None:
    assert client.post("/v1/sources/nope/webhooks", json={}).status_code == 404
    response = client.post(
        "/v1/sources/typeform/webhooks", content=b"a=b", headers={"Content-Type": "text/plain"}
    )
    assert response.status_code == 415


def test_facebook_subscription_check(client: TestClient) -> None:
    query = {"hub.mode": "subscribe", "hub.challenge": "1158201444", "hub.verify_token": "verify-me"}
    ok = client.get("/v1/sources/facebook/webhooks", params=query)
    assert (ok.status_code, ok.text) == (200, "1158201444")
    refused = client.get("/v1/sources/facebook/webhooks", params={**query, "hub.verify_token": "nope"})
    assert refused.status_code == 403


def test_rate_limit_is_429_with_retry_after(
    env: None, broker: Any, database_url: str, topic_prefix: str, graph_url: str
) -> None:
    settings = settings_for(broker.bootstrap, database_url, topic_prefix).model_copy(
        update={"max_body_bytes": 65536}
    )
    app = create_app(bootstrap(settings, _config(graph_url, per_second=0.5, burst=2)))
    with TestClient(app) as client:
        statuses = [_post(client, "typeform", SECRET["typeform"]).status_code for _ in range(3)]
        assert statuses[:2] in ([202, 200],)
        assert statuses[2] == 429
        limited = _post(client, "typeform", SECRET["typeform"])
        assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
        assert _post(client, "tally", SECRET["tally"]).status_code == 202  # other sources unaffected


def test_a_verified_delivery_without_a_lead_is_200_not_an_error(client: TestClient) -> None:
    """A HubSpot deletion carries no lead: acknowledged, nothing published, no vendor retry."""
    url = "http://testserver/v1/sources/hubspot/webhooks"
    deletion = [
        {"eventId": 9, "subscriptionType": "contact.deletion", "objectId": 1, "occurredAt": 1700000000000}
    ]
    headers, body = signed_request("hubspot", SECRET["hubspot"], deletion, datetime.now(UTC), url)
    response = client.post(url, content=body, headers=headers)
    assert (response.status_code, response.json()) == (200, {"event_id": None, "lead_id": None, "leads": []})


def test_hubspot_behind_a_proxy_verifies_against_the_public_url(
    env: None, broker: Any, database_url: str, topic_prefix: str, graph_url: str
) -> None:
    settings = settings_for(broker.bootstrap, database_url, topic_prefix).model_copy(
        update={"max_body_bytes": 65536, "public_url": "https://leads.example.com"}
    )
    public = "https://leads.example.com/v1/sources/hubspot/webhooks"
    headers, body = signed_request(
        "hubspot", SECRET["hubspot"], load_sample("hubspot"), datetime.now(UTC), public
    )
    with TestClient(create_app(bootstrap(settings, _config(graph_url)))) as client:
        assert client.post("/v1/sources/hubspot/webhooks", content=body, headers=headers).status_code == 202
