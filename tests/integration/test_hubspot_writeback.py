"""HubSpot owner write-back against a local server that checks method, path, auth and body;
429 honoured by HubSpot's own rate-limit headers; only leads that came from a HubSpot source."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from services.delivery.clock import ManualClock
from services.delivery.devreceiver import Received, Receiver, Reply
from services.delivery.operations import list_deliveries
from tests.integration.test_delivery_support import assigned, config_with, deliverer

pytestmark = pytest.mark.db
START = datetime(2026, 12, 1, 9, tzinfo=UTC)
TOKEN = "pat-na1-00000000-test"


def hubspot(request: Received) -> Reply:
    """A strict stand-in for api.hubapi.com: anything off the contract is a 400/401."""
    if request.headers.get("authorization") != f"Bearer {TOKEN}":
        return Reply(401)
    if request.method != "PATCH" or not request.path.startswith("/crm/v3/objects/contacts/"):
        return Reply(400)
    body = json.loads(request.body)
    if set(body) != {"properties"} or set(body["properties"]) != {"hubspot_owner_id"}:
        return Reply(400)
    return Reply(200, {"content-type": "application/json"}, request.body)


async def test_assignment_sets_the_contact_owner(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("T_HUBSPOT_TOKEN", TOKEN)
    throttled = {"left": 1}

    def respond(request: Received) -> Reply:
        if throttled["left"]:
            throttled["left"] -= 1
            return Reply(
                429,
                {
                    "X-HubSpot-RateLimit-Interval-Milliseconds": "10000",
                    "X-HubSpot-RateLimit-Max": "100",
                    "X-HubSpot-RateLimit-Remaining": "0",
                },
            )
        return hubspot(request)

    server = Receiver(respond)
    url = await server.start()
    crm = {
        "hubspot": {"token_env": "T_HUBSPOT_TOKEN", "base_url": url, "owners": {"ana": "9001", "ben": "9002"}}
    }
    clock = ManualClock(START)
    try:
        async with deliverer(database_url, config_with(crm=crm), clock) as d:
            await d.feed(
                assigned("hubspot:12345", 0, rep="ana", source="hubspot"),
                assigned("api-lead", 1, rep="ben", source="api"),  # not from HubSpot: no write
                assigned("hubspot:777", 2, rep="chloe", source="hubspot"),  # no owner id mapped
            )
            await d.dispatcher.drain()
            assert server.count == 1  # the 429
            clock.advance(9.9)
            await d.dispatcher.drain()
            assert server.count == 1, "retried inside HubSpot's 10 s window"
            clock.advance(0.1)
            await d.dispatcher.drain()
            delivered = await list_deliveries(d.sessions, status="delivered")
            dead = await list_deliveries(d.sessions, status="dead")
    finally:
        await server.stop()
    assert [r.path for r in server.received] == ["/crm/v3/objects/contacts/12345"] * 2
    last = server.received[-1]
    assert last.method == "PATCH" and last.headers["content-type"] == "application/json"
    assert json.loads(last.body) == {"properties": {"hubspot_owner_id": "9001"}}
    assert [(m.target, m.lead_id, m.attempts, m.last_status) for m in delivered] == [
        ("crm:hubspot", "hubspot:12345", 2, 200)
    ]
    assert [(m.lead_id, m.last_error) for m in dead] == [
        ("hubspot:777", "no HubSpot owner id for rep 'chloe' under crm.hubspot.owners")
    ]
