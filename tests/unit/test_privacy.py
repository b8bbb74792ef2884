"""Scrubbing one person out of stored data (shared/privacy.py): by field, by value, by shape."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from shared.events import CloudEvent, LeadCaptured, LeadData
from shared.privacy import (
    ERASED,
    Scrubber,
    erase_event,
    erase_lead_fields,
    personal_values,
    pseudonym_email,
)

pytestmark = pytest.mark.unit

LEAD = {
    "email": "Ada.Novak+forms@Northwind.example",
    "first_name": "Ada",
    "last_name": "Novakova",
    "phone": "+1 (555) 010-0199",
    "company": "Northwind Traders",
    "title": "VP Operations",
    "country": "US",
    "employees": 120,
    "campaign": "q4-ops",
    "custom": {"note": "call Ada after 5"},
}


def test_personal_values_cover_the_identity_forms_the_router_keys_by() -> None:
    values = personal_values(LEAD)
    assert {"Ada", "Novakova", "Ada Novakova", "Northwind Traders", "VP Operations"} <= values
    assert "ada.novak@northwind.example" in values  # +tag folded, as the router's identity key
    assert "15550100199" in values  # phone digits, as in `phone:<digits>`


def test_erased_lead_keeps_what_reports_count_by_and_still_validates() -> None:
    pseudonym = pseudonym_email("7c1e6f2a-0000-4000-8000-000000000001")
    erased = erase_lead_fields(LEAD, pseudonym)
    assert erased["email"] == pseudonym and pseudonym.endswith("@erased.invalid")
    assert {k: erased[k] for k in ("country", "employees", "campaign")} == {
        "country": "US",
        "employees": 120,
        "campaign": "q4-ops",
    }
    assert not {"first_name", "last_name", "phone", "company", "title"} & set(erased)
    assert erased["custom"] == {}
    LeadData.model_validate(erased)  # a stored capture still parses after erasure


def test_scrubber_replaces_whole_words_and_any_email_shape_but_not_parts_of_words() -> None:
    scrub = Scrubber(personal_values(LEAD))
    record = {
        "profile": {"key": "email:ada.novak@northwind.example"},
        "reasons": [{"message": "Ada from Northwind Traders, phone:15550100199", "code": "adaptive"}],
        "other": "someone.else@example.org wrote",
    }
    out = scrub(record)
    assert out["profile"]["key"] == f"email:{ERASED}"
    assert out["reasons"][0]["message"] == f"{ERASED} from {ERASED}, phone:{ERASED}"
    assert out["reasons"][0]["code"] == "adaptive"  # "Ada" inside a word is not the person
    assert out["other"] == f"{ERASED} wrote"


def test_erase_event_keeps_the_envelope_and_the_type_readable() -> None:
    lead = LeadData.model_validate(LEAD)
    captured = LeadCaptured(lead=lead, source="api", received_at=datetime.now(UTC))
    raw = CloudEvent.wrap(
        captured, subject="lead-1", source="leadrelay/ingest", time=datetime.now(UTC), event_id="e1"
    ).to_bytes()
    erased = erase_event(raw, {"Ada.Novak+forms@Northwind.example"}, pseudonym_email("erasure-1"))
    text = erased.decode().lower()
    for value in ("ada", "novak", "northwind traders", "555", "vp operations"):
        assert value not in text.replace("erased-erasure1@erased.invalid", ""), value
    event = CloudEvent.from_bytes(erased)
    assert (event.id, event.subject, event.type) == ("e1", "lead-1", "lead.captured")
    again = event.payload(LeadCaptured)
    assert again.lead.country == "US" and again.lead.employees == 120
    assert erase_event(erased, set(), pseudonym_email("erasure-1")) == erased  # idempotent


def test_bytes_that_are_not_json_are_replaced_whole() -> None:
    assert json.loads(erase_event(b"\xff ada@x.example", set(), "p@erased.invalid")) == {"erased": True}
