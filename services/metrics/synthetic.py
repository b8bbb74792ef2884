"""Synthetic lead histories: a year of leads as the raw events LeadRelay would carry, seeded.

For the correctness tests (reports vs an independent computation over the same raw events), the
benchmark and `leadrelay import` demos. Deterministic for a seed; synthetic people only. Covers
disqualified and nurtured leads, queues, reassignments (re-entries), first touches with SLA
outcomes, accepts, rejects with reasons, recycling, opportunities with and without values,
won and lost deals, and late, out-of-order and repeated deliveries.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from shared.events import CloudEvent, stable_id

SOURCES = ("hubspot", "typeform", "webinar", "api", "facebook")
SOURCE_WEIGHTS = (30, 25, 15, 20, 10)
CAMPAIGNS = ("webinar-q4", "pricing-page", "ebook-pipeline", "g2-review", "partner-referral")
PRODUCT_LINES = ("core", "analytics", "platform")
TEAMS = {"inbound-amer": ("ana", "ben", "chloe"), "inbound-emea": ("dmitri", "elena")}
REJECT_REASONS = ("no_budget", "timing", "not_ready", "wrong_contact")
LOST_REASONS = ("price", "competitor", "no_decision")
YEAR_START = datetime(2025, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class RawEvent:
    """One event as it travels: id, lead, type, event time and its `data` payload."""

    event_id: str
    lead_id: str
    type: str
    time: datetime
    data: dict[str, Any]

    def cloud_event(self) -> CloudEvent:
        return CloudEvent(
            id=self.event_id,
            source="synthetic",
            type=self.type,
            time=self.time,
            subject=self.lead_id,
            data=self.data,
        )


def _decision(at: datetime, source: str, code: str) -> dict[str, Any]:
    reason = {"code": code, "message": f"synthetic: {code}", "detail": {}}
    return {"decision_id": f"d-{code}", "source": source, "reasons": [reason], "decided_at": at.isoformat()}


class _Lead:
    def __init__(self, rng: random.Random, n: int, seed: int, start: datetime, days: int) -> None:
        self.rng, self.id, self.seed = rng, f"lead-{seed}-{n:07d}", seed
        self.events: list[RawEvent] = []
        self.t0 = start + timedelta(seconds=rng.uniform(0, days * 86400))
        self.source = rng.choices(SOURCES, SOURCE_WEIGHTS)[0]

    def add(self, type_: str, at: datetime, data: dict[str, Any]) -> None:
        event_id = stable_id("synthetic", str(self.seed), self.id, str(len(self.events)))
        self.events.append(RawEvent(event_id, self.id, type_, at, data))

    def activity(self, at: datetime, kind: str, rep: str, **extra: Any) -> None:
        self.add("activity.recorded", at, {"kind": kind, "rep_id": rep, **extra})


def _story(lead: _Lead) -> None:
    rng, t, src = lead.rng, lead.t0, lead.source
    person = {"email": f"{lead.id}@synthetic.example", "campaign": rng.choice(CAMPAIGNS)}
    person["product_line"] = rng.choice(PRODUCT_LINES)
    lead.add("lead.captured", t, {"lead": person, "source": src, "received_at": t.isoformat()})
    fate = rng.random()
    t += timedelta(seconds=rng.uniform(1, 30))
    if fate < 0.15:
        lead.add(
            "lead.disqualified", t, _decision(t, src, "free-email") | {"ruleset_version": "v1", "rule": "r"}
        )
        return
    if fate < 0.25:
        lead.add("lead.nurtured", t, _decision(t, src, "default") | {"ruleset_version": "v1", "rule": None})
        return
    lead.add("lead.qualified", t, _decision(t, src, "icp-fit") | {"ruleset_version": "v1", "rule": "icp-fit"})
    team = rng.choice(tuple(TEAMS))
    if rng.random() < 0.05:
        t += timedelta(seconds=rng.uniform(1, 10))
        queued = {"team": team, "queue": "unassigned", "policy": "round_robin"}
        lead.add("lead.queued", t, _decision(t, src, "all-reps-away") | queued)
        if rng.random() < 0.5:
            return
        t += timedelta(hours=rng.uniform(1, 14))
    t += timedelta(seconds=rng.uniform(1, 120))
    rep = rng.choice(TEAMS[team])
    assigned = t
    lead.add(
        "lead.assigned", t, _decision(t, src, "round-robin") | {"rep_id": rep, "team": team, "policy": "rr"}
    )
    if rng.random() < 0.1:
        t += timedelta(minutes=rng.uniform(5, 60))
        other = rng.choice([r for r in TEAMS[team] if r != rep] or [rep])
        moved = {"rep_id": other, "team": team, "policy": "rr", "previous_rep_id": rep}
        lead.add("lead.reassigned", t, _decision(t, src, "sla-escalation") | moved)
        rep = other
    if rng.random() < 0.15:
        return  # never touched
    t += timedelta(minutes=rng.lognormvariate(2.0, 1.3))
    lead.activity(t, "first_touch", rep, channel=rng.choice(("call", "email")))
    wall = int((t - assigned).total_seconds())
    clock = {"clock_id": f"c-{lead.id}", "policy": "first-touch", "target": "first_touch", "team": team}
    clock["rep_id"] = rep
    if wall <= 300:
        met = {"stopped_by": "first_touch", "stopped_at": t.isoformat(), "within_target": True}
        met |= {"business_seconds": wall, "wall_seconds": wall, "paused_seconds": 0, "target_seconds": 300}
        met |= {"system_delay_seconds": 10, "rep_delay_seconds": wall}
        lead.add("sla.met", t, clock | met)
    else:
        due = assigned + timedelta(minutes=5)
        breach = {"target_seconds": 300, "due_at": due.isoformat(), "fired_at": due.isoformat()}
        lead.add("sla.breached", due, clock | breach)
    t += timedelta(hours=rng.uniform(0.5, 48))
    answer = rng.random()
    if answer < 0.15:
        lead.activity(t, "rejected", rep, reason=rng.choice(REJECT_REASONS))
        if rng.random() < 0.4:
            lead.add("lead.recycled", t + timedelta(seconds=1), {"reason": "timing"})
        return
    if answer > 0.85:
        return
    lead.activity(t, "accepted", rep)
    if rng.random() < 0.5:
        return
    t += timedelta(days=rng.uniform(1, 20))
    value = round(rng.lognormvariate(9.8, 0.8), 2) if rng.random() < 0.8 else None
    close = (t + timedelta(days=rng.uniform(20, 90))).date()
    lead.activity(t, "opportunity_created", rep, value=value, expected_close=close.isoformat())
    end = rng.random()
    t += timedelta(days=rng.uniform(5, 120))
    if end < 0.3:
        final = value if rng.random() < 0.7 else round(rng.lognormvariate(9.8, 0.8), 2)
        lead.activity(t, "won", rep, value=final)
    elif end < 0.7:
        lead.activity(t, "lost", rep, reason=rng.choice(LOST_REASONS))


def history(leads: int, seed: int = 1, start: datetime = YEAR_START, days: int = 365) -> list[list[RawEvent]]:
    """Each lead's events in event-time order."""
    rng = random.Random(seed)  # noqa: S311 - reproducible synthetic data, not security
    out = []
    for n in range(leads):
        lead = _Lead(rng, n, seed, start, days)
        _story(lead)
        out.append(lead.events)
    return out


def deliveries(stories: list[list[RawEvent]], seed: int = 1) -> Iterator[RawEvent]:
    """The events as a broker might deliver them: 5% of leads out of order (the capture last),
    2% of events twice. Event times never change: the reports must not care."""
    rng = random.Random(seed + 1)  # noqa: S311
    for events in stories:
        order = list(events)
        if rng.random() < 0.05:
            order = order[1:] + order[:1]
        for e in order:
            yield e
            if rng.random() < 0.02:
                yield e
