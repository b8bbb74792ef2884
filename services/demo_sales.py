"""The demo's sales side: what reps do with the leads LeadRelay hands them, on event time.

A sales tool reads `lead.assigned` from the handoffs topic (the contract sales tools consume) and
posts back what happened: a first touch minutes after capture, accepted or rejected (reason codes)
within days, an opportunity with a value and an expected close, then won or lost weeks later. Each
lead's story is drawn from its own seeded generator (seed + lead id), so it does not depend on the
order assignments arrive in; activities dated after `cutoff` are not posted (the lead is still open).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from aiokafka.errors import KafkaError

from shared.events import CloudEvent, EnvelopeError
from shared.kafka.readers import topic_reader

CHANNELS = ("call", "call", "email", "email", "email", "linkedin", "meeting")
REJECT_REASONS = ("timing", "no_budget", "not_ready", "wrong_contact", "competitor", "duplicate")
LOST_REASONS = ("price", "competitor", "no_decision", "timing", "lost_to_status_quo")
OPEN_STAGES = ("discovery", "proposal", "negotiation")
# Routing outcomes after which the router says nothing more about a lead (until sales acts).
ROUTED = ("lead.assigned", "lead.queued", "lead.disqualified", "lead.nurtured")


@dataclass(frozen=True)
class Activity:
    kind: str
    at: datetime
    fields: dict[str, Any] = field(default_factory=dict)

    def body(self, lead_id: str, rep_id: str | None) -> dict[str, Any]:
        return {
            "lead_id": lead_id,
            "kind": self.kind,
            "rep_id": rep_id,
            "occurred_at": self.at.isoformat(),
            **self.fields,
        }


def _minutes(rng: random.Random) -> float:
    """Speed to lead: most within 15 minutes, a tail of hours (the reps who were away)."""
    if rng.random() < 0.12:
        return rng.uniform(60, 26 * 60)
    return min(rng.lognormvariate(1.6, 0.9), 59.0)


def story(seed: int, lead_id: str, captured: datetime, cutoff: datetime) -> list[Activity]:
    """What sales does with this lead, in event-time order, up to `cutoff` (inclusive)."""
    rng = random.Random(f"{seed}:{lead_id}")  # noqa: S311 - reproducible demo data, not security
    out = [
        Activity(
            "first_touch", captured + timedelta(minutes=_minutes(rng)), {"channel": rng.choice(CHANNELS)}
        )
    ]
    decided = out[0].at + timedelta(hours=rng.uniform(1, 72))
    if rng.random() < 0.22:
        out.append(Activity("rejected", decided, {"reason": rng.choice(REJECT_REASONS)}))
        return [a for a in out if a.at <= cutoff]
    out.append(Activity("accepted", decided))
    if rng.random() < 0.6:
        opened = decided + timedelta(days=rng.uniform(2, 21))
        value = round(rng.lognormvariate(10.0, 0.7), -2)  # median about $22k
        close = (opened + timedelta(days=rng.uniform(25, 90))).date()
        out.append(Activity("opportunity_created", opened, _deal(value, close)))
        out.extend(_outcome(rng, opened, value))
    return [a for a in out if a.at <= cutoff]


def _deal(value: float, close: date) -> dict[str, Any]:
    return {"value": value, "expected_close": close.isoformat()}


def _outcome(rng: random.Random, opened: datetime, value: float) -> list[Activity]:
    staged = opened + timedelta(days=rng.uniform(5, 20))
    out = [Activity("stage_changed", staged, {"stage": rng.choice(OPEN_STAGES)})]
    ends = staged + timedelta(days=rng.uniform(10, 80))
    roll = rng.random()
    if roll < 0.4:
        out.append(Activity("won", ends, {"value": round(value * rng.uniform(0.8, 1.15), -2)}))
    elif roll < 0.8:
        out.append(Activity("lost", ends, {"reason": rng.choice(LOST_REASONS)}))
    return out  # else: still open (past its expected close, it shows up as slippage)


@dataclass(frozen=True)
class Handoff:
    lead_id: str
    type: str
    rep_id: str | None


def read_handoff(raw: bytes | None) -> Handoff | None:
    """The lead, event type and owner of one handoffs record; None for what is not a CloudEvent."""
    try:
        event = CloudEvent.from_bytes(raw)
    except EnvelopeError:
        return None
    rep = event.data.get("rep_id") if isinstance(event.data, dict) else None
    return Handoff(event.subject, event.type, rep if isinstance(rep, str) else None)


async def watch_handoffs(
    bootstrap: str,
    topic: str,
    on_routed: Callable[[Handoff], Awaitable[None]],
    done: Callable[[], bool],
    idle_s: float,
) -> None:
    """Read the handoffs topic from the start (no group: nothing to commit, no rebalance to wait
    for, and no assignment missed however late the demo started) until `done()` or `idle_s` quiet.

    Every lead's first routing outcome goes to `on_routed`, the demo's own or not: the router may
    answer before the demo has read the ingest's 202, so only the caller can tell."""
    consumer = topic_reader(bootstrap, topic)
    await consumer.start()
    seen: set[str] = set()
    try:
        loop = asyncio.get_running_loop()
        quiet_since = loop.time()
        while not done() and loop.time() - quiet_since < idle_s:
            batches = await consumer.getmany(timeout_ms=200)
            for handoff in _routed(r.value for records in batches.values() for r in records):
                if handoff.lead_id not in seen:  # the first routing outcome of each lead
                    seen.add(handoff.lead_id)
                    quiet_since = loop.time()
                    await on_routed(handoff)
    except KafkaError:
        return  # the broker went away: the demo reports what it did
    finally:
        await consumer.stop()


def _routed(values: Iterable[bytes | None]) -> Iterable[Handoff]:
    for value in values:
        handoff = read_handoff(value)
        if handoff is not None and handoff.type in ROUTED:
            yield handoff
