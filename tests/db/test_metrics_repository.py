"""Metrics: stage timestamps on event time, reached semantics, cohort filters; SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.metrics.domain.periods import window
from services.metrics.funnel.service import funnel_csv, funnel_report
from services.metrics.handlers import metrics_dispatcher
from services.metrics.reports.scope import Scope
from services.metrics.tables import events, lead_stages, leads, transitions
from services.metrics.timeline.service import timeline_csv, timeline_report
from shared.dispatch import Dispatcher, decode
from shared.events import EVENT_MODELS, CloudEvent, LeadData

pytestmark = pytest.mark.db

T0 = datetime(2026, 1, 15, 9, 0, tzinfo=UTC)


_DECISION = {"decision_id": "d", "reasons": [], "decided_at": T0.isoformat()}
# A minimal valid payload per event type (metrics reads the typed model, never raw dicts).
_DATA: dict[str, dict[str, Any]] = {
    "lead.captured": {"lead": LeadData(email="p@example.com").model_dump(), "received_at": T0.isoformat()},
    "lead.qualified": {**_DECISION, "ruleset_version": "v1", "rule": "r"},
    "lead.disqualified": {**_DECISION, "ruleset_version": "v1", "rule": "r"},
    "lead.nurtured": {**_DECISION, "ruleset_version": "v1", "rule": None},
    "lead.assigned": {**_DECISION, "rep_id": "ana", "team": "t", "policy": "round_robin"},
    "lead.queued": {**_DECISION, "team": "t", "queue": "q", "policy": "round_robin"},
    "lead.reassigned": {**_DECISION, "previous_rep_id": "ana", "rep_id": "ben", "team": "t", "policy": "p"},
}


def event(kind: str, lead_id: str, at: datetime, event_id: str, source: str = "web") -> CloudEvent:
    data = {**_DATA[kind], "source": source}
    EVENT_MODELS[kind].model_validate(data)
    return CloudEvent(id=event_id, source="test", type=kind, time=at, subject=lead_id, data=data)


def FunnelFilters(
    captured_from: datetime | None = None, captured_to: datetime | None = None, source: str | None = None
) -> Scope:
    period = "custom" if captured_from or captured_to else "all"
    w = window(period, "UTC", now=T0, start=captured_from, end=captured_to)
    return Scope(w, {"source": source} if source else {})


async def feed(handler: Dispatcher, *events: CloudEvent) -> list[bool]:
    results = []
    for e in events:
        decoded = decode(e.to_bytes())
        assert decoded is not None
        results.append(await handler.dispatch(*decoded))
    return results


async def test_funnel_counts_reached_stages(sessions: async_sessionmaker[AsyncSession]) -> None:
    handler = metrics_dispatcher(sessions)
    await feed(
        handler,
        event("lead.captured", "a", T0, "a1", source="web"),
        event("lead.qualified", "a", T0, "a2", source="web"),
        event("lead.assigned", "a", T0, "a3", source="web"),
        event("lead.captured", "b", T0, "b1", source="web"),
        event("lead.disqualified", "b", T0, "b2", source="web"),
        event("lead.captured", "c", T0, "c1", source="ads"),
        event("lead.nurtured", "c", T0, "c2", source="ads"),
    )
    async with sessions() as s:
        report = await funnel_report(s, FunnelFilters())
    reached = {step.stage: step.reached for step in report.steps}
    assert reached == {"captured": 3, "reviewed": 3, "mql": 1, "assigned": 1, "sal": 0, "sql": 0, "won": 0}
    mql = next(step for step in report.steps if step.stage == "mql")
    assert mql.conversion_from_previous == round(1 / 3, 4)
    assert report.exits == {"disqualified": 1, "nurturing": 1, "rejected": 0, "lost": 0}
    assert "mql,MQL,1,0.3333" in funnel_csv(report)


async def test_out_of_order_and_duplicate_events(sessions: async_sessionmaker[AsyncSession]) -> None:
    handler = metrics_dispatcher(sessions)
    # The handoff arrives before the capture (they travel on different topics), then a redelivery.
    results = await feed(
        handler,
        event("lead.assigned", "z", T0 + timedelta(minutes=2), "z3", source="web"),
        event("lead.captured", "z", T0, "z1", source="web"),
        event("lead.assigned", "z", T0 + timedelta(minutes=2), "z3", source="web"),
    )
    assert results == [True, True, False]
    async with sessions() as s:
        row = (await s.execute(select(leads).where(leads.c.lead_id == "z"))).one()
        n_transitions = len((await s.execute(select(transitions).where(transitions.c.lead_id == "z"))).all())
        report = await funnel_report(s, FunnelFilters())
    assert row.captured_at == T0
    assert row.source == "web"
    assert n_transitions == 2
    assert [step.reached for step in report.steps][:4] == [1, 1, 1, 1]


async def test_reentry_keeps_first_and_last_and_counts(sessions: async_sessionmaker[AsyncSession]) -> None:
    handler = metrics_dispatcher(sessions)
    await feed(
        handler,
        event("lead.captured", "r", T0, "r1"),
        event("lead.assigned", "r", T0 + timedelta(hours=1), "r2"),
        event("lead.reassigned", "r", T0 + timedelta(hours=3), "r3"),
    )
    async with sessions() as s:
        row = (
            await s.execute(
                select(lead_stages).where(lead_stages.c.lead_id == "r", lead_stages.c.stage == "assigned")
            )
        ).one()
    assert (row.first_at, row.last_at, row.entries) == (T0 + timedelta(hours=1), T0 + timedelta(hours=3), 2)


async def test_cohort_and_source_filters_use_event_time(sessions: async_sessionmaker[AsyncSession]) -> None:
    handler = metrics_dispatcher(sessions)
    await feed(
        handler,
        event("lead.captured", "jan", T0, "j1", source="web"),
        event("lead.captured", "feb", T0 + timedelta(days=31), "f1", source="web"),
        event("lead.captured", "feb-ads", T0 + timedelta(days=32), "f2", source="ads"),
    )
    january = FunnelFilters(
        captured_from=datetime(2026, 1, 1, tzinfo=UTC), captured_to=datetime(2026, 2, 1, tzinfo=UTC)
    )
    february_web = FunnelFilters(
        captured_from=datetime(2026, 2, 1, tzinfo=UTC),
        captured_to=datetime(2026, 3, 1, tzinfo=UTC),
        source="web",
    )
    async with sessions() as s:
        assert (await funnel_report(s, january)).total == 1
        assert (await funnel_report(s, february_web)).total == 1
        assert (await funnel_report(s, FunnelFilters())).total == 3


async def test_a_first_touch_moves_no_stage_but_is_kept_for_response_times(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    handler = metrics_dispatcher(sessions)
    activity = CloudEvent(
        id="q2", source="t", type="activity.recorded", time=T0, subject="q", data={"kind": "first_touch"}
    )
    assert await feed(handler, activity, activity) == [True, False]
    async with sessions() as s:
        row = (await s.execute(select(leads))).one()
        assert (row.first_touch_at, row.furthest_rank) == (T0, None)
        assert (await s.execute(select(transitions))).all() == []
        assert len((await s.execute(select(events))).all()) == 1


async def test_time_in_stage_is_cumulative_over_reentries_and_open_stints_are_not_counted(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    handler = metrics_dispatcher(sessions)
    hour = timedelta(hours=1)
    await feed(
        handler,
        event("lead.captured", "t", T0, "t1"),
        event("lead.queued", "t", T0 + hour, "t2"),
        event("lead.assigned", "t", T0 + 2 * hour, "t3"),  # queued 1 h
        event("lead.queued", "t", T0 + 5 * hour, "t4"),  # assigned 3 h, queued again
        event("lead.assigned", "t", T0 + 7 * hour, "t5"),  # queued 2 h more: 3 h in all
    )
    async with sessions() as s:
        rows = {r.stage: r for r in (await s.execute(select(lead_stages))).all()}
        timeline = await timeline_report(s, "t")
    assert (rows["queued"].seconds, rows["queued"].entries) == (3 * 3600, 2)
    assert rows["captured"].seconds == 3600
    assert rows["assigned"].seconds == 3 * 3600  # the open stint since T0+7h is not counted
    assert rows["assigned"].first_at == T0 + 2 * hour and rows["assigned"].last_at == T0 + 7 * hour
    assert timeline is not None
    assert [e.type for e in timeline.entries] == ["lead.captured", *["lead.queued", "lead.assigned"] * 2]


async def test_timeline_shows_every_decision_with_its_reasons(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    handler = metrics_dispatcher(sessions)
    reason = {"code": "round_robin", "message": "next in rotation", "detail": {"rep": "ana"}}
    assigned = event("lead.assigned", "x", T0 + timedelta(seconds=5), "x2")
    assigned = assigned.model_copy(update={"data": {**assigned.data, "reasons": [reason]}})
    await feed(handler, assigned, event("lead.captured", "x", T0, "x1"))  # the decision arrives first
    async with sessions() as s:
        timeline = await timeline_report(s, "x")
        assert await timeline_report(s, "nobody") is None
    assert timeline is not None
    assert [(e.type, e.category) for e in timeline.entries] == [
        ("lead.captured", "capture"),
        ("lead.assigned", "decision"),
    ]
    decision = timeline.entries[1]
    assert (decision.rep_id, decision.team, decision.reasons) == ("ana", "t", [reason])
    assert decision.detail["policy"] == "round_robin"
    assert "next in rotation" in timeline_csv(timeline)
    assert "p@example.com" not in timeline.model_dump_json()  # the person never reaches the metrics log


async def test_queued_lead_is_shown_apart_and_not_counted_as_assigned(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    handler = metrics_dispatcher(sessions)
    await feed(
        handler,
        event("lead.captured", "q", T0, "q1"),
        event("lead.qualified", "q", T0, "q2"),
        event("lead.queued", "q", T0, "q3"),
        event("lead.captured", "a", T0, "a1"),
        event("lead.qualified", "a", T0, "a2"),
        event("lead.queued", "a", T0, "a3"),
        event("lead.assigned", "a", T0 + timedelta(hours=1), "a4"),  # picked from the queue later
    )
    async with sessions() as s:
        report = await funnel_report(s, FunnelFilters())
    reached = {step.stage: step.reached for step in report.steps}
    assert (reached["mql"], reached["assigned"], report.queued) == (2, 1, 1)
    assert "queued,hold: queued (no owner yet),1" in funnel_csv(report)
