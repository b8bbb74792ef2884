"""`leadrelay tail` prints a topic's events, filtered by lead, against the real broker."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest

from services.tail import tail
from shared.events import CloudEvent
from shared.kafka import ensure_topics
from shared.kafka.embedded import EmbeddedBroker
from tests.helpers.kafka_tools import produce

pytestmark = pytest.mark.kafka


async def test_tail_prints_the_lead_events_and_stops(
    broker: EmbeddedBroker, capsys: pytest.CaptureFixture[str]
) -> None:
    topic = f"tail-{uuid.uuid4().hex[:8]}"
    await ensure_topics(broker.bootstrap, [topic], partitions=1)
    events = [
        CloudEvent(
            id=f"e{i}",
            source="t",
            type="lead.assigned",
            time=datetime(2026, 1, 1, tzinfo=UTC),
            subject=lead,
            data={"n": i},
        )
        for i, lead in enumerate(["a", "b", "a"])
    ]
    await produce(broker.bootstrap, topic, [e.to_bytes() for e in events] + [b"garbage"])
    printed = await tail(broker.bootstrap, topic, lead_id="a", count=None, timeout_s=1.5)
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert printed == 2
    assert [line.get("id") for line in lines] == [
        "e0",
        "e2",
        None,
    ]  # the unreadable record is flagged, not hidden
    assert lines[2] == {"unreadable": True, "offset": 3}
