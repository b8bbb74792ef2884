"""docs/asyncapi.yaml is generated from the published models and is up to date."""

from __future__ import annotations

import json
from typing import Any

import jsonschema_rs
import pytest
import yaml

from shared.events import PUBLISHED_MODELS
from shared.events.asyncapi import DOCUMENT, main, render
from tests.integration.test_delivery_support import assigned, captured

pytestmark = pytest.mark.unit


def validator(document: dict[str, Any], event_type: str) -> Any:
    schema = {"$ref": f"#/components/schemas/{event_type}", "components": document["components"]}
    return jsonschema_rs.validator_for(schema)


def test_committed_document_is_up_to_date() -> None:
    assert DOCUMENT.read_text() == render(), "run: python -m shared.events.asyncapi"
    assert main(["--check"]) == 0


def test_every_published_model_has_a_message_and_a_schema() -> None:
    document = yaml.safe_load(DOCUMENT.read_text())
    assert document["asyncapi"] == "3.0.0"
    channels = document["channels"]
    assert {c["address"] for c in channels.values()} == {
        "leadrelay.lead-events",
        "leadrelay.handoffs",
        "leadrelay.dlq",
    }
    on_topics = {ref for c in channels.values() for ref in c["messages"]}
    for model in PUBLISHED_MODELS:
        assert model.__name__ in on_topics
        assert document["components"]["messages"][model.__name__]["name"] == model.event_type
        assert model.event_type in document["components"]["schemas"]


def test_schemas_accept_real_events_and_refuse_wrong_ones() -> None:
    document = yaml.safe_load(DOCUMENT.read_text())
    event = json.loads(assigned("lead-1"))
    assert validator(document, "lead.assigned").is_valid(event)
    assert validator(document, "lead.captured").is_valid(json.loads(captured("lead-1", company="Navy")))
    assert not validator(document, "lead.captured").is_valid(event), "an assignment is not a capture"
    event["data"]["rep_id"] = 7
    assert not validator(document, "lead.assigned").is_valid(event)
