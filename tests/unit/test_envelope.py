"""CloudEvent envelope and the canonical lead: what goes on the wire and what is refused."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from shared.events import (
    SCHEMA_VERSION,
    ActivityRecorded,
    CloudEvent,
    EnvelopeError,
    LeadCaptured,
    LeadData,
)

pytestmark = pytest.mark.unit

RECEIVED = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


def _captured(email: str = "Ada@Example.com") -> LeadCaptured:
    return LeadCaptured(
        lead=LeadData(email=email, first_name="Ada", country="gb", employees=120),
        source="api",
        received_at=RECEIVED,
    )


def _wrapped(**overrides: object) -> CloudEvent:
    kwargs: dict[str, object] = {
        "subject": "lead-1",
        "source": "/leadrelay/ingest",
        "time": RECEIVED,
        "event_id": "evt-1",
    }
    kwargs.update(overrides)
    return CloudEvent.wrap(_captured(), **kwargs)  # type: ignore[arg-type]


def _valid_dict() -> dict[str, object]:
    return json.loads(_wrapped().to_bytes())


# --- round trip ---------------------------------------------------------------


def test_round_trip_keeps_id_type_subject_time_and_data() -> None:
    original = _wrapped()
    restored = CloudEvent.from_bytes(original.to_bytes())

    assert restored.id == "evt-1"
    assert restored.type == "lead.captured"
    assert restored.subject == "lead-1"
    assert restored.source == "/leadrelay/ingest"
    assert restored.time == RECEIVED
    assert restored.data == original.data
    assert restored.payload(LeadCaptured) == _captured()


def test_wire_time_is_utc_with_z_suffix_even_for_offset_input() -> None:
    paris = timezone(timedelta(hours=1))
    event = _wrapped(time=datetime(2026, 3, 1, 10, 30, tzinfo=paris))

    wire = json.loads(event.to_bytes())

    assert wire["time"] == "2026-03-01T09:30:00Z"
    assert CloudEvent.from_bytes(event.to_bytes()).time == RECEIVED


def test_wire_carries_cloudevents_attributes_and_schema_version() -> None:
    wire = json.loads(_wrapped().to_bytes())

    assert wire["specversion"] == "1.0"
    assert wire["datacontenttype"] == "application/json"
    assert wire["schemaversion"] == SCHEMA_VERSION
    assert wire["data"]["lead"]["email"] == "ada@example.com"


def test_wrap_generates_distinct_ids_when_none_given() -> None:
    first = _wrapped(event_id=None)
    second = _wrapped(event_id=None)

    assert first.id and second.id
    assert first.id != second.id


def test_wrap_refuses_naive_time() -> None:
    with pytest.raises(ValidationError):
        _wrapped(time=datetime(2026, 3, 1, 9, 30))  # naive on purpose


# --- from_bytes refusals --------------------------------------------------------


@pytest.mark.parametrize("raw", [b"", None])
def test_from_bytes_refuses_empty(raw: bytes | None) -> None:
    with pytest.raises(EnvelopeError, match="empty message"):
        CloudEvent.from_bytes(raw)


@pytest.mark.parametrize("raw", [b"not json", b"{", b"[1, 2]", b'"a string"', b"\xff\xfe"])
def test_from_bytes_refuses_non_json_or_non_object(raw: bytes) -> None:
    with pytest.raises(EnvelopeError, match="CloudEvents"):
        CloudEvent.from_bytes(raw)


@pytest.mark.parametrize("missing", ["id", "source", "type", "time", "subject", "data"])
def test_from_bytes_refuses_missing_required_attribute(missing: str) -> None:
    body = _valid_dict()
    del body[missing]

    with pytest.raises(EnvelopeError) as info:
        CloudEvent.from_bytes(json.dumps(body).encode())

    assert missing in str(info.value)


def test_from_bytes_refuses_wrong_specversion() -> None:
    body = _valid_dict() | {"specversion": "0.3"}

    with pytest.raises(EnvelopeError):
        CloudEvent.from_bytes(json.dumps(body).encode())


def test_from_bytes_refuses_newer_schema_version_and_says_to_upgrade() -> None:
    body = _valid_dict() | {"schemaversion": SCHEMA_VERSION + 1}

    with pytest.raises(EnvelopeError) as info:
        CloudEvent.from_bytes(json.dumps(body).encode())

    message = str(info.value)
    assert f"schemaversion {SCHEMA_VERSION + 1}" in message
    assert "upgrade" in message


def test_from_bytes_accepts_current_schema_version_and_unknown_extensions() -> None:
    body = _valid_dict() | {"dataref": "s3://bucket/key"}

    event = CloudEvent.from_bytes(json.dumps(body).encode())

    assert event.schemaversion == SCHEMA_VERSION
    assert event.model_extra == {"dataref": "s3://bucket/key"}


# --- payload ------------------------------------------------------------------------


def test_payload_refuses_the_wrong_model() -> None:
    event = _wrapped()

    with pytest.raises(EnvelopeError, match="does not carry ActivityRecorded"):
        event.payload(ActivityRecorded)


def test_payload_refuses_data_that_does_not_match_the_schema() -> None:
    body = _valid_dict()
    body["data"] = {"source": "api"}  # no lead, no received_at
    event = CloudEvent.from_bytes(json.dumps(body).encode())

    with pytest.raises(EnvelopeError, match="does not match its schema"):
        event.payload(LeadCaptured)


def test_payload_refuses_unregistered_type() -> None:
    body = _valid_dict() | {"type": "lead.teleported"}
    event = CloudEvent.from_bytes(json.dumps(body).encode())

    with pytest.raises(EnvelopeError, match=r"lead\.teleported"):
        event.payload(LeadCaptured)


# --- LeadData -------------------------------------------------------------------------


def test_lead_email_is_lowercased_and_stripped() -> None:
    assert LeadData(email="  Ada.Lovelace@Example.COM ").email == "ada.lovelace@example.com"


@pytest.mark.parametrize("email", ["", "ada", "ada@", "@example.com", "ada@example", "a da@example.com"])
def test_lead_refuses_bad_email(email: str) -> None:
    with pytest.raises(ValidationError, match="email"):
        LeadData(email=email)


def test_lead_country_is_uppercased() -> None:
    assert LeadData(email="a@b.co", country="de").country == "DE"


@pytest.mark.parametrize("country", ["d", "deu"])
def test_lead_country_must_be_two_letters(country: str) -> None:
    with pytest.raises(ValidationError, match="country"):
        LeadData(email="a@b.co", country=country)


def test_lead_refuses_unknown_fields() -> None:
    with pytest.raises(ValidationError) as info:
        LeadData(email="a@b.co", favourite_colour="teal")  # type: ignore[call-arg]

    assert "favourite_colour" in str(info.value)
    assert info.value.errors()[0]["type"] == "extra_forbidden"


def test_lead_refuses_negative_employees() -> None:
    with pytest.raises(ValidationError, match="employees"):
        LeadData(email="a@b.co", employees=-1)
