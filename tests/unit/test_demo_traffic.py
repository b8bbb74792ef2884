"""The demo's traffic, without a stack: vendor payloads the real adapters accept and map to the
demo's person, and sales stories that are reproducible and consistent on event time."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.demo import fake_lead
from services.demo_sales import story
from services.demo_vendors import KINDS, graph_lead, vendor_payload
from services.ingest.sources import SourceOptions, build_adapter, map_request
from services.ingest.sources.base import InboundRequest
from services.ingest.sources.samples import signed_request

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
URL = "http://127.0.0.1:8000/v1/sources/demo/webhooks"


class FakeGraph:
    def __init__(self, person: dict[str, Any]) -> None:
        self.person = person

    async def fetch_lead(self, leadgen_id: str) -> dict[str, Any]:
        return graph_lead(leadgen_id, self.person)


def _person(n: int) -> dict[str, Any]:
    lead = fake_lead(random.Random(n), n)
    lead["email"] = lead["email"].split("@")[0] + "@northwind.example"  # never a free mail domain
    return lead


@pytest.mark.parametrize("kind", KINDS)
async def test_each_vendor_payload_verifies_and_maps_to_the_person(kind: str) -> None:
    options = SourceOptions(field_map=_standard_map() if kind == "standard" else {})
    adapter = build_adapter(kind, options)
    seen = set()
    for n in range(3):
        person, at = _person(n), NOW - timedelta(days=40 + n)
        payload = vendor_payload(kind, person, f"{n:04x}abcd{n:08x}", at)
        headers, body = signed_request(kind, "s3cret-demo", payload, NOW, URL)
        inbound = InboundRequest("POST", URL, headers, body, "application/json")
        adapter.verify(inbound, ["s3cret-demo"], NOW)
        graph = FakeGraph(person) if kind == "facebook" else None
        mapped = await map_request(adapter, inbound, options, graph)
        [lead] = mapped
        assert lead.lead.email == person["email"]
        assert lead.occurred_at is not None and abs((lead.occurred_at - at).total_seconds()) < 2
        seen.add((lead.delivery_id, lead.lead_id))
    assert len(seen) == 3, "every request is a new delivery and a new lead"


def _standard_map() -> dict[str, str]:
    return {"email": "data.email", "first_name": "data.first_name", "country": "data.country"}


def test_a_story_is_reproducible_ordered_and_never_after_the_cutoff() -> None:
    captured = NOW - timedelta(days=200)
    first = story(7, "lead-1", captured, NOW)
    assert first == story(7, "lead-1", captured, NOW)
    assert [a.at for a in first] == sorted(a.at for a in first)
    assert first[0].kind == "first_touch" and first[0].at > captured
    kinds = {a.kind for s in range(300) for a in story(s, "lead-1", captured, NOW)}
    assert kinds == {
        "first_touch",
        "accepted",
        "rejected",
        "opportunity_created",
        "stage_changed",
        "won",
        "lost",
    }
    recent = [story(s, "x", NOW - timedelta(hours=2), NOW) for s in range(50)]
    assert all(a.at <= NOW for s in recent for a in s)
    assert not any(a.kind in ("won", "lost") for s in recent for a in s)
