"""Every event a real run produces (ingest → router, leads and sales feedback) validates against
the published AsyncAPI document: the contract integrators read is the one on the wire."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
import jsonschema_rs
import pytest
import yaml
from aiokafka import ConsumerRecord

from services.devstack import start_service, stop_all, wait_ready
from shared.events import Topics
from shared.events.asyncapi import DOCUMENT
from shared.kafka.brokers import Broker
from tests.helpers.kafka_tools import read_until
from tests.helpers.stack import API_KEY, e2e_env

pytestmark = [pytest.mark.e2e, pytest.mark.kafka, pytest.mark.db, pytest.mark.pairwise]
LEADS = [
    {"lead_id": "qa-1", "email": "ada@acme.example", "employees": 400, "country": "US", "company": "Acme"},
    {"lead_id": "qa-2", "email": "bob@gmail.com", "country": "US"},  # disqualified
    {"lead_id": "qa-3", "email": "cy@tiny.example", "employees": 3},  # nurtured
    {"lead_id": "qa-4", "email": "di@nord.example", "employees": 90, "country": "DE"},
]
ACTIVITIES = [
    {"lead_id": "qa-1", "kind": "first_touch", "rep_id": "ana", "channel": "call"},
    {"lead_id": "qa-1", "kind": "accepted", "rep_id": "ana"},
    {"lead_id": "qa-4", "kind": "rejected", "rep_id": "dmitri", "reason": "timing"},
]


def _validators() -> dict[str, jsonschema_rs.Validator]:
    document = yaml.safe_load(DOCUMENT.read_text())
    components = document["components"]
    types = [m["name"] for m in components["messages"].values() if m["name"] != "dead-letter"]
    return {
        t: jsonschema_rs.validator_for({"$ref": f"#/components/schemas/{t}", "components": components})
        for t in types
    }


def _settled(records: list[ConsumerRecord[bytes, bytes]]) -> bool:
    types = {json.loads(r.value)["type"] for r in records}
    return {"lead.accepted", "lead.rejected", "sla.met", "lead.disqualified", "lead.nurtured"} <= types


def test_every_produced_event_matches_the_asyncapi_document(
    broker: Broker, database_url: str, topic_prefix: str, tmp_path: Path
) -> None:
    env = e2e_env(broker.bootstrap, database_url, topic_prefix)
    services = [start_service(name, env, tmp_path) for name in ("router", "ingest")]
    topics = Topics(topic_prefix)
    try:
        wait_ready(services)
        with httpx.Client(base_url=services[1].url, headers={"X-API-Key": API_KEY}, timeout=10) as client:
            for lead in LEADS:
                assert client.post("/v1/leads", json=lead).status_code == 202
            asyncio.run(
                read_until(broker.bootstrap, topics.handoffs, _assigned_twice, timeout_s=30, settle_s=0)
            )
            for activity in ACTIVITIES:
                assert client.post("/v1/activities", json=activity).status_code == 202
        handoffs = asyncio.run(read_until(broker.bootstrap, topics.handoffs, _settled, timeout_s=30))
        lead_events = asyncio.run(read_until(broker.bootstrap, topics.lead_events, lambda r: len(r) >= 7))
    finally:
        stop_all(services)
    validators = _validators()
    seen: set[str] = set()
    for record in [*lead_events, *handoffs]:
        event = json.loads(record.value)
        seen.add(event["type"])
        errors = [e.message for e in validators[event["type"]].iter_errors(event)]
        assert not errors, f"{event['type']} does not match docs/asyncapi.yaml: {errors[:3]}"
    assert {"lead.captured", "activity.recorded", "lead.qualified", "lead.assigned", "sla.started"} <= seen


def _assigned_twice(records: list[ConsumerRecord[bytes, bytes]]) -> bool:
    return sum(json.loads(r.value)["type"] == "lead.assigned" for r in records) >= 2
