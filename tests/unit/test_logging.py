"""Logs carry ids, never personal data: `redact_pii` as a structlog processor."""

from __future__ import annotations

import pytest

from shared.logging import PII_KEYS, redact_pii

pytestmark = pytest.mark.unit


def test_email_and_name_values_are_redacted() -> None:
    event = {
        "event": "lead captured",
        "email": "ada@example.com",
        "name": "Ada Lovelace",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "phone": "+44 20 7946 0000",
    }

    out = redact_pii(None, "info", event)

    for key in ("email", "name", "first_name", "last_name", "phone"):
        assert out[key] == "[redacted]", key
    assert out["event"] == "lead captured"


def test_ids_are_left_alone() -> None:
    event = {
        "event": "lead assigned",
        "lead_id": "lead-42",
        "event_id": "evt-7",
        "rep_id": "ana",
        "team": "inbound-amer",
        "email": "ada@example.com",
    }

    out = redact_pii(None, "info", event)

    assert {k: out[k] for k in ("event", "lead_id", "event_id", "rep_id", "team")} == {
        "event": "lead assigned",
        "lead_id": "lead-42",
        "event_id": "evt-7",
        "rep_id": "ana",
        "team": "inbound-amer",
    }
    assert out["email"] == "[redacted]"


def test_every_known_pii_key_is_redacted_whatever_its_value() -> None:
    event: dict[str, object] = {key: {"nested": key} for key in PII_KEYS}

    out = redact_pii(None, "warning", event)

    assert dict(out) == dict.fromkeys(PII_KEYS, "[redacted]")


def test_keys_are_not_added_when_absent() -> None:
    event = {"event": "tick", "lead_id": "lead-1"}

    assert redact_pii(None, "info", dict(event)) == event


def test_works_in_place_and_returns_the_same_mapping() -> None:
    event = {"event": "x", "body": "{...}"}

    out = redact_pii(None, "info", event)

    assert out is event
    assert event["body"] == "[redacted]"


def test_nested_and_capitalised_pii_keys_are_redacted() -> None:
    event = redact_pii(
        None,
        "info",
        {
            "event": "x",
            "Email": "a@b.co",
            "lead": {"email": "a@b.co", "lead_id": "l-1", "utm": {"Phone": "555"}},
        },
    )
    assert event["Email"] == "[redacted]"
    assert event["lead"] == {"email": "[redacted]", "lead_id": "l-1", "utm": {"Phone": "[redacted]"}}
