"""The live consumer's batch path: a poll's events in one transaction give exactly what one
transaction per event gives (read model, transition log, live tables), redeliveries add nothing,
and a record that is not an event sends the poll back to the one-by-one path.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.metrics.handlers import metrics_batch_handler, metrics_dispatcher, projector
from services.metrics.synthetic import deliveries, history
from services.metrics.tables import contacts, inbox, lead_stages, leads, sla_clocks, transitions
from services.metrics.tables import events as facts
from shared.dispatch import decode
from shared.events import CloudEvent, Event
from shared.kafka import Delivery, PermanentError

pytestmark = pytest.mark.db


def _events(n: int) -> list[tuple[CloudEvent, Event]]:
    """Late, out-of-order and repeated deliveries of n leads' stories, decoded."""
    decoded = [decode(e.cloud_event().to_bytes()) for e in deliveries(history(n, seed=5), seed=9)]
    return [d for d in decoded if d is not None]


async def _state(sessions: async_sessionmaker[AsyncSession]) -> dict[str, Any]:
    async with sessions() as s:
        lead_rows = (await s.execute(select(leads).order_by(leads.c.lead_id))).mappings().all()
        stage_rows = (await s.execute(select(lead_stages))).mappings().all()
        moves = (await s.execute(select(transitions.c.event_id, transitions.c.stage))).all()
        claimed = (await s.execute(select(inbox.c.event_id))).scalars().all()
        live = {t.name: (await s.execute(select(t))).mappings().all() for t in (contacts, sla_clocks)}
    return {
        "leads": [{k: v for k, v in r.items() if k != "updated_at"} for r in lead_rows],
        "stages": sorted((r["lead_id"], r["stage"], r["entries"], r["seconds"]) for r in stage_rows),
        "transitions": sorted(moves),
        "inbox": sorted(claimed),
        "live": {
            name: sorted(str({k: v for k, v in r.items() if k != "updated_at"}) for r in rows)
            for name, rows in live.items()
        },
    }


def _polls(events: Sequence[tuple[CloudEvent, Event]], size: int) -> list[list[Delivery]]:
    records = [Delivery("t", 0, i, None, e.to_bytes()) for i, (e, _) in enumerate(events)]
    return [records[i : i + size] for i in range(0, len(records), size)]


async def test_a_poll_in_one_transaction_equals_one_transaction_per_event(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    events = _events(120)
    one_by_one = metrics_dispatcher(sessions)
    for event, payload in events:
        await one_by_one.dispatch(event, payload)
    expected = await _state(sessions)
    assert expected["live"]["metrics_contacts"], "the dashboard's live tables are part of the check"

    async with sessions() as s, s.begin():  # start again from nothing, in batches this time
        for table in (lead_stages, leads, transitions, inbox, facts, contacts, sla_clocks):
            await s.execute(table.delete())
    handle = metrics_batch_handler(sessions)
    for poll in _polls(events, 200):
        await handle(poll)
    assert await _state(sessions) == expected
    # A redelivered poll (a crash before the offset commit) changes nothing.
    for poll in _polls(events, 200)[:2]:
        await handle(poll)
    assert await _state(sessions) == expected


async def test_duplicates_within_a_poll_count_once(sessions: async_sessionmaker[AsyncSession]) -> None:
    events = _events(20)
    project = projector(sessions)
    first = await project.project_many(events + events[:10])
    assert first == len({e.id for e, _ in events})
    assert await project.project_many(events) == 0


async def test_a_record_that_is_not_an_event_fails_the_batch_so_the_loop_goes_one_by_one(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    events = _events(5)
    poll = [*_polls(events, 100)[0], Delivery("t", 0, 999, None, b"not json")]
    with pytest.raises(PermanentError):
        await metrics_batch_handler(sessions)(poll)
    async with sessions() as s:
        assert (await s.execute(select(inbox.c.event_id))).first() is None, "nothing stored"
