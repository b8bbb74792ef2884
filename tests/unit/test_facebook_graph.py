"""Facebook Lead Ads end to end against a real local HTTP server standing in for the Graph API:
the subscription check, the client's request (path, version, token, proof), its errors, and
`map_async` turning a signed leadgen webhook into the lead the Graph API describes."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from services.ingest.sources import (
    GraphClient,
    GraphError,
    InboundRequest,
    SourceOptions,
    SubscriptionRefused,
    build_adapter,
    map_request,
    verify_subscription,
)
from services.ingest.sources.samples import load_sample, signed_request

TOKEN, APP_SECRET = "page-token-123", "app-secret-456"
NOW = datetime(2025, 11, 24, 12, 0, tzinfo=UTC)


@dataclass
class FakeGraph:
    """What the server answers (status, body) per leadgen id, and what it was asked."""

    answers: dict[str, tuple[int, Any]] = field(default_factory=dict)
    seen: list[dict[str, Any]] = field(default_factory=list)


@pytest.fixture
def graph_server() -> Iterator[tuple[str, FakeGraph]]:
    state = FakeGraph()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            url = urlsplit(self.path)
            state.seen.append(
                {"path": url.path, "query": parse_qs(url.query), "auth": self.headers.get("Authorization")}
            )
            status, body = state.answers.get(url.path.rsplit("/", 1)[-1], (404, {"error": {"code": 100}}))
            raw = body if isinstance(body, bytes) else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def log_message(self, *args: Any) -> None:  # keep test output clean
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", state
    finally:
        server.shutdown()
        server.server_close()


def test_subscription_check_echoes_the_challenge() -> None:
    query = {"hub.mode": "subscribe", "hub.challenge": "1158201444", "hub.verify_token": "vt"}
    assert verify_subscription(query, "vt") == "1158201444"
    for bad in ({**query, "hub.verify_token": "other"}, {**query, "hub.mode": "unsubscribe"}, {}):
        with pytest.raises(SubscriptionRefused):
            verify_subscription(bad, "vt")
    with pytest.raises(SubscriptionRefused):
        verify_subscription(query, "")  # an unset verify token never matches


async def test_fetch_lead_sends_version_token_fields_and_proof(graph_server: tuple[str, FakeGraph]) -> None:
    base_url, state = graph_server
    state.answers["444444444444"] = (200, load_sample("facebook_graph_lead"))
    async with GraphClient(TOKEN, base_url=base_url, version="v19.0", app_secret=APP_SECRET) as graph:
        lead = await graph.fetch_lead("444444444444")
    assert lead["field_data"][1] == {"name": "email", "values": ["joe.example@contoso-builders.com"]}
    (request,) = state.seen
    assert request["path"] == "/v19.0/444444444444"
    assert request["auth"] == f"Bearer {TOKEN}"
    assert "access_token" not in request["query"]  # the token stays out of URLs and access logs
    assert request["query"]["fields"] == ["id,created_time,field_data,form_id"]
    proof = hmac.new(APP_SECRET.encode(), TOKEN.encode(), hashlib.sha256).hexdigest()
    assert request["query"]["appsecret_proof"] == [proof]


@pytest.mark.parametrize(
    ("status", "body", "retryable"),
    [
        (400, {"error": {"type": "OAuthException", "code": 190}}, False),
        (404, {"error": {"code": 100}}, False),
        (429, {"error": {"code": 4}}, True),
        (500, b"<html>oops</html>", True),
        (200, b"not json", True),
    ],
)
async def test_graph_errors_say_whether_a_retry_can_help(
    graph_server: tuple[str, FakeGraph], status: int, body: Any, retryable: bool
) -> None:
    base_url, state = graph_server
    state.answers["1"] = (status, body)
    async with GraphClient(TOKEN, base_url=base_url) as graph:
        with pytest.raises(GraphError) as caught:
            await graph.fetch_lead("1")
    assert caught.value.retryable is retryable
    assert TOKEN not in str(caught.value)


async def test_unreachable_graph_is_retryable_and_bad_ids_never_leave() -> None:
    async with GraphClient(TOKEN, base_url="http://127.0.0.1:9", timeout_s=1.0) as graph:
        with pytest.raises(GraphError) as caught:
            await graph.fetch_lead("1")
        assert caught.value.retryable
        with pytest.raises(GraphError) as caught:
            await graph.fetch_lead("../me/accounts")
        assert not caught.value.retryable
    with pytest.raises(ValueError, match="version"):
        GraphClient(TOKEN, version="latest")


async def test_signed_leadgen_webhook_maps_to_the_graph_lead(graph_server: tuple[str, FakeGraph]) -> None:
    base_url, state = graph_server
    state.answers["444444444444"] = (200, load_sample("facebook_graph_lead"))
    headers, body = signed_request("facebook", APP_SECRET, load_sample("facebook"), NOW)
    request = InboundRequest("POST", "https://x.example/hook", headers, body, "application/json", {})
    adapter = build_adapter("facebook")
    adapter.verify(request, [APP_SECRET], NOW)
    options = SourceOptions(field_map={"industry": "how_soon_do_you_need_it?"}, product_line="builders")
    async with GraphClient(TOKEN, base_url=base_url) as graph:
        (mapped,) = await map_request(adapter, request, options, graph)
    assert (mapped.delivery_id, mapped.lead_id) == ("444444444444", "facebook:444444444444")
    assert mapped.occurred_at == datetime(2025, 11, 24, 10, 26, 38, tzinfo=UTC)
    lead = mapped.lead
    assert (lead.email, lead.first_name, lead.last_name) == (
        "joe.example@contoso-builders.com",
        "Joe",
        "Example",
    )
    assert (lead.company, lead.title, lead.phone) == (
        "Contoso Builders",
        "Procurement Manager",
        "+15555550142",
    )
    assert (lead.industry, lead.product_line) == ("this_quarter", "builders")
    assert lead.custom == {
        "facebook_page_id": "153125381133",
        "facebook_form_id": "1201234567890123",
        "facebook_ad_id": "23851234567890123",
    }


async def test_map_request_needs_a_graph_client_for_facebook() -> None:
    headers, body = signed_request("facebook", APP_SECRET, load_sample("facebook"), NOW)
    request = InboundRequest("POST", "https://x.example/hook", headers, body, "application/json", {})
    with pytest.raises(ValueError, match="Graph API client"):
        await map_request(build_adapter("facebook"), request, SourceOptions())
