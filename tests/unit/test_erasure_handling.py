"""The erasure step in front of a consumer's handlers keeps the records' order, and only
`lead.erased` goes on to the wrapped handler (sales tools hear of it; person.erased is internal)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import pytest

from shared.erasure_handling import with_erasure, with_erasure_batch
from shared.events import (
    CloudEvent,
    Event,
    LeadAccepted,
    LeadCaptured,
    LeadData,
    LeadErased,
    PersonErased,
)
from shared.kafka import Delivery

pytestmark = pytest.mark.unit
NOW = datetime.now(UTC)


def record(payload: Event, lead_id: str, offset: int) -> Delivery:
    raw = CloudEvent.wrap(payload, subject=lead_id, source="t", time=NOW, event_id=f"e{offset}").to_bytes()
    return Delivery("t", 0, offset, lead_id.encode(), raw)


CAPTURED = LeadCaptured(lead=LeadData(email="erased.fan@example.org"), source="api", received_at=NOW)
RECORDS = [
    record(CAPTURED, "a", 0),  # "erased" in the email: still not an erasure
    record(LeadAccepted(), "a", 1),
    record(PersonErased(erasure_id="x", requested_at=NOW), "a", 2),
    record(LeadAccepted(), "b", 3),
    record(LeadErased(erasure_id="x", requested_at=NOW, erased_at=NOW), "a", 4),
]


async def test_batches_are_split_around_erasures_in_order() -> None:
    calls: list[tuple[str, list[int]]] = []

    async def batch(deliveries: Sequence[Delivery]) -> None:
        calls.append(("batch", [d.offset for d in deliveries]))

    async def eraser(event: CloudEvent, _: Event) -> bool:
        calls.append(("erase", [int(event.id[1:])]))
        return True

    await with_erasure_batch(batch, eraser)(RECORDS)
    assert calls == [("batch", [0, 1]), ("erase", [2]), ("batch", [3]), ("erase", [4]), ("batch", [4])]


async def test_one_by_one_the_same() -> None:
    calls: list[tuple[str, int]] = []

    async def handler(delivery: Delivery) -> None:
        calls.append(("handle", delivery.offset))

    async def eraser(event: CloudEvent, _: Event) -> bool:
        calls.append(("erase", int(event.id[1:])))
        return True

    handle = with_erasure(handler, eraser)
    for delivery in RECORDS:
        await handle(delivery)
    assert calls == [("handle", 0), ("handle", 1), ("erase", 2), ("handle", 3), ("erase", 4), ("handle", 4)]
