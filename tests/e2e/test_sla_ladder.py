"""An SLA escalation ladder end to end on the real broker, in process: the router as `bootstrap`
wires it (consumer, outbox relay, SLA timer loop), with a ManualClock standing in for the wall
clock. started -> warning -> breached -> remind -> reassigned -> met, read back from the handoffs topic."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest

from services.router.bootstrap import bootstrap, create_app
from services.router.settings import RouterSettings
from services.router.sla import ManualClock
from shared.config import load_config
from shared.events import ActivityRecorded, CloudEvent, LeadCaptured, LeadData, LeadReassigned, SlaMet, Topics
from shared.kafka.brokers import Broker
from shared.settings import CommonSettings
from tests.db.test_sla_timers import MONDAY_10, NY
from tests.helpers.kafka_tools import produce, read_topic

pytestmark = [pytest.mark.e2e, pytest.mark.kafka, pytest.mark.db, pytest.mark.pairwise]


async def _wait_for(broker: Broker, topic: str, last_type: str, count: int) -> list[CloudEvent]:
    """The topic's events once `count` have arrived and the last is `last_type`."""
    deadline = asyncio.get_running_loop().time() + 40
    while True:
        records = await read_topic(broker.bootstrap, topic, expect=count, timeout_s=5)
        events = [CloudEvent.from_bytes(r.value) for r in records]
        if len(events) >= count and events[count - 1].type == last_type:
            return events
        assert asyncio.get_running_loop().time() < deadline, [e.type for e in events]


async def test_escalation_ladder_on_the_real_broker(
    broker: Broker, database_url: str, topic_prefix: str
) -> None:
    config = load_config("examples/leadrelay.yaml")
    config = config.model_copy(update={"sla": [p for p in config.sla if p.name == "first-touch"]})
    settings = RouterSettings(
        common=CommonSettings(
            kafka_bootstrap=broker.bootstrap, database_url=database_url, topic_prefix=topic_prefix
        )
    )
    clock = ManualClock(MONDAY_10)
    service = bootstrap(settings, config, clock=clock)
    app = create_app(service)
    topics = Topics(topic_prefix)
    lead_id = "lead-ladder-1"
    async with app.router.lifespan_context(app):
        captured = LeadCaptured(
            lead=LeadData(email="ada@acme.example", employees=800, country="US"),
            source="api",
            received_at=MONDAY_10 - timedelta(seconds=1),
        )
        event = CloudEvent.wrap(captured, subject=lead_id, source="test", time=MONDAY_10)
        await produce(broker.bootstrap, topics.lead_events, [event.to_bytes()], key=lead_id.encode())
        await _wait_for(broker, topics.handoffs, "sla.started", 3)

        clock.set(datetime(2026, 3, 2, 10, 4, 30, tzinfo=NY))  # 80% of 5 business minutes
        await _wait_for(broker, topics.handoffs, "sla.warning", 4)
        clock.set(datetime(2026, 3, 2, 10, 6, tzinfo=NY))  # breach, and the ladder's remind
        await _wait_for(broker, topics.handoffs, "sla.escalated", 6)
        clock.set(datetime(2026, 3, 2, 10, 11, tzinfo=NY))  # 5 business minutes after breach
        await _wait_for(broker, topics.handoffs, "lead.reassigned", 7)

        touched = datetime(2026, 3, 2, 10, 12, tzinfo=NY)
        clock.set(touched)
        touch = ActivityRecorded(kind="first_touch", rep_id="ben", channel="call")
        activity = CloudEvent.wrap(touch, subject=lead_id, source="crm", time=touched)
        await produce(broker.bootstrap, topics.lead_events, [activity.to_bytes()], key=lead_id.encode())
        events = await _wait_for(broker, topics.handoffs, "sla.met", 8)

    assert [e.type for e in events] == [
        "lead.qualified",
        "lead.assigned",
        "sla.started",
        "sla.warning",
        "sla.breached",
        "sla.escalated",
        "lead.reassigned",
        "sla.met",
    ]
    assert {e.subject for e in events} == {lead_id}
    assert events[5].data["action"] == "remind"
    reassigned = events[6].payload(LeadReassigned)
    assert (reassigned.previous_rep_id, reassigned.rep_id) == ("ana", "ben")
    assert reassigned.reasons[0].detail["step"] == 1
    met = events[7].payload(SlaMet)
    assert (met.rep_id, met.within_target, met.business_seconds, met.wall_seconds) == ("ben", False, 720, 720)
    assert met.system_delay_seconds == 1
    # Timers fire on the clock, never early: each timer event is stamped with its deadline.
    assert [e.time.astimezone(NY).strftime("%H:%M") for e in events[3:7]] == [
        "10:04",
        "10:05",
        "10:05",
        "10:10",
    ]
