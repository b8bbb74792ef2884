"""Ingest's hot-path shortcuts write exactly what the long way writes (bench/ingest.py, issue 5 item 8).

- `CloudEvent.encode` is `CloudEvent.wrap(...).to_bytes()` byte for byte;
- a `LeadCaptured` built around the validated `LeadIn` serialises as the one built around
  `LeadIn.lead()` (no second validation per request).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from services.ingest.schemas import LeadIn
from shared.events import ActivityRecorded, CloudEvent, LeadCaptured, LeadData

pytestmark = pytest.mark.unit

AT = datetime(2026, 11, 24, 9, 30, 1, 123456, tzinfo=timezone(timedelta(hours=-5)))
LEAD = {
    "lead_id": "crm-00123",
    "email": "  Ada.Novak@Northwind.example ",
    "first_name": "Ada ",
    "last_name": "Nováková",
    "company": 'Northwind \u2603 "Traders"',
    "employees": 120,
    "annual_revenue": 1250000.5,
    "country": "us",
    "consent": True,
    "signals": ["demo_request"],
    "utm": {"source": "google", "campaign": "q4"},
    "custom": {"answers": [1, 2.5, None, {"nested": "\u00e9"}], "score": 10},
    "occurred_at": "2026-11-20T14:03:00+01:00",
}


def _captured(lead: LeadData) -> LeadCaptured:
    return LeadCaptured(lead=lead, source="api", received_at=datetime(2026, 11, 24, 10, 0, tzinfo=UTC))


@pytest.mark.parametrize("traceparent", [None, "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"])
@pytest.mark.parametrize("time", [AT, AT.astimezone(UTC), datetime(2026, 1, 1, tzinfo=UTC)])
def test_encode_is_wrap_then_to_bytes_byte_for_byte(time: datetime, traceparent: str | None) -> None:
    body = LeadIn.model_validate_json(json.dumps(LEAD))
    for event in (
        _captured(body.lead()),
        ActivityRecorded(kind="won", rep_id="ana", value=24000.0),
    ):
        kwargs = {"subject": "crm-00123", "source": "leadrelay/ingest", "time": time, "event_id": "evt-1"}
        wrapped = CloudEvent.wrap(event, traceparent=traceparent, **kwargs).to_bytes()  # type: ignore[arg-type]
        encoded = CloudEvent.encode(event, traceparent=traceparent, **kwargs)  # type: ignore[arg-type]
        assert encoded == wrapped
        assert CloudEvent.from_bytes(encoded).typed() == event


def test_encode_refuses_what_the_envelope_model_refuses() -> None:
    event = _captured(LeadData(email="ada@example.com"))
    with pytest.raises(ValueError, match="offset"):
        CloudEvent.encode(event, subject="l", source="s", time=datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="non-empty"):
        CloudEvent.encode(event, subject="", source="s", time=AT)


def test_encode_mints_an_id_when_none_is_given() -> None:
    event = _captured(LeadData(email="ada@example.com"))
    first = CloudEvent.from_bytes(CloudEvent.encode(event, subject="l", source="s", time=AT))
    second = CloudEvent.from_bytes(CloudEvent.encode(event, subject="l", source="s", time=AT))
    assert first.id and second.id and first.id != second.id


def test_a_capture_around_the_request_body_serialises_as_around_its_lead() -> None:
    body = LeadIn.model_validate_json(json.dumps(LEAD))
    direct = _captured(body)
    revalidated = _captured(body.lead())
    assert direct.model_dump_json() == revalidated.model_dump_json()
    assert "lead_id" not in direct.model_dump()["lead"]
    assert "occurred_at" not in json.loads(direct.model_dump_json())["lead"]


def test_lead_ref_checks_lead_ins_own_fields_as_lead_in_does() -> None:
    """A mapped lead's id and event time go through `LeadRef`, not a second `LeadIn` validation."""
    from services.ingest.schemas import LeadRef

    assert set(LeadIn.model_fields) - set(LeadData.model_fields) == set(LeadRef.model_fields)
    for name, ref in LeadRef.model_fields.items():
        full = LeadIn.model_fields[name]  # the same rules
        assert (ref.annotation, ref.default, repr(ref.metadata)) == (
            full.annotation,
            full.default,
            repr(full.metadata),
        )
    assert LeadRef.model_config["strict"] and LeadIn.model_config["strict"]
    cases = [
        {"lead_id": "crm-1", "occurred_at": AT},
        {"lead_id": "has space", "occurred_at": None},
        {"lead_id": None, "occurred_at": datetime(1850, 1, 1, tzinfo=UTC)},
        {"lead_id": "x" * 201, "occurred_at": datetime(2999, 12, 31, tzinfo=UTC)},
        {"lead_id": None, "occurred_at": datetime(2026, 1, 1)},  # naive
    ]
    lead = {"email": "ada@example.com"}
    for case in cases:
        try:
            expected: object = LeadIn.model_validate({**lead, **case}).model_dump(include=set(case))
        except ValueError as exc:
            expected = [(e["loc"], e["msg"]) for e in exc.errors()]  # type: ignore[attr-defined]
        try:
            got: object = LeadRef.model_validate(case).model_dump()
        except ValueError as exc:
            got = [(e["loc"], e["msg"]) for e in exc.errors()]  # type: ignore[attr-defined]
        assert got == expected, case


def test_the_delivery_hash_reads_the_serialisers_bytes_as_model_dump_json_writes_them() -> None:
    lead = LeadIn.model_validate_json(json.dumps(LEAD)).lead()
    assert lead.__pydantic_serializer__.to_json(lead) == lead.model_dump_json().encode()
