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
