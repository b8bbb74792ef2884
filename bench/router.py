"""Router throughput: leads/s through the real router vs a minimal loop doing the same I/O.

    .venv/bin/python bench/router.py                      # SQLite, and PostgreSQL if given
    .venv/bin/python bench/router.py --postgres postgresql+asyncpg://...   # an empty database
    .venv/bin/python bench/router.py --leads 2000

One embedded broker, one run, the same lead.captured events for every contender:
- consume: a bare consumer reading the topic (the ceiling);
- baseline: the consumer loop with a batch handler that does only the unavoidable I/O: the inbox
  claim, profile lock and save, routing-state lock and save, decision rows, owner rows and outbox
  rows (precomputed by the real router beforehand, so the same rows and bytes), one transaction per
  poll; the same outbox relay produces them;
- router: the real batch handler (decode, profile merge, account match, scoring, rules, team,
  policy, decision record) over the same loop and relay.
Both run in this process, one after the other, each on a database of its own.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aiokafka import AIOKafkaConsumer
from rich.console import Console
from rich.table import Table
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.router.domain.decision import Router
from services.router.handlers import router_handlers
from services.router.profiles import identity_key
from services.router.profiles.repository import ProfileRepository
from services.router.repository import RouterRepository
from services.router.routing import Assignment
from services.router.routing.repository import RoutingRepository
from services.router.tables import outbox
from shared.config import LeadRelayConfig, load_config
from shared.db import create_engine, create_session_factory
from shared.db.migrate import migrate_service
from shared.events import CloudEvent, LeadCaptured, LeadData, Topics
from shared.kafka import Delivery, EventProducer, ensure_topics
from shared.kafka.brokers import create_broker
from shared.kafka.consumer import ConsumerLoop
from shared.kafka.producer import OutgoingMessage
from shared.logging import configure_logging
from shared.outbox_relay import OutboxRelay

ROOT = Path(__file__).resolve().parents[1]
INDUSTRIES = ["software", "fintech", "retail", "health"]


def bench_config() -> LeadRelayConfig:
    # The example config without SLA policies: this measures qualification and routing.
    return load_config(ROOT / "examples" / "leadrelay.yaml").model_copy(update={"sla": []})


def make_leads(n: int, tag: str) -> list[tuple[CloudEvent, LeadCaptured]]:
    start = datetime.now(UTC) - timedelta(days=1)
    out = []
    for i in range(n):
        lead = LeadData(
            email=f"buyer{i}@company{i % (n // 2 or 1)}.example",  # half the people come back
            company=f"Company {i}",
            title="VP Sales" if i % 3 else "Engineer",
            employees=50 + (i * 37) % 5000,
            country=["US", "CA", "DE", "FR"][i % 4],
            industry=INDUSTRIES[i % 4],
            signals=["demo_request"] if i % 5 == 0 else [],
        )
        at = start + timedelta(seconds=i)
        payload = LeadCaptured(lead=lead, source="api", received_at=at)
        out.append((CloudEvent.wrap(payload, subject=f"{tag}-{i}", source="bench", time=at), payload))
    return out


async def produce(bootstrap: str, topic: str, leads: list[tuple[CloudEvent, LeadCaptured]]) -> None:
    producer = EventProducer(bootstrap, client_id="bench-router-load", linger_ms=5, send_timeout_s=60)
    try:
        msgs = [OutgoingMessage(topic, e.subject.encode(), e.to_bytes()) for e, _ in leads]
        for i in range(0, len(msgs), 500):
            await producer.publish_many(msgs[i : i + 500])
    finally:
        await producer.stop()


async def consume_rate(bootstrap: str, topic: str, n: int) -> float:
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", fetch_max_wait_ms=20
    )
    await consumer.start()
    try:
        got, t0 = 0, None
        while got < n:
            for records in (await consumer.getmany(timeout_ms=200, max_records=500)).values():
                t0 = t0 or time.perf_counter()
                got += len(records)
        return n / (time.perf_counter() - (t0 or time.perf_counter()))
    finally:
        await consumer.stop()


BatchFn = Callable[[Sequence[Delivery]], Awaitable[None]]


async def run_loop(
    bootstrap: str, topics: Topics, sessions: async_sessionmaker[AsyncSession], batch: BatchFn, n: int
) -> float:
    """Drive the consumer loop and the outbox relay until n leads are in and every row is published."""
    producer = EventProducer(bootstrap, client_id=f"bench-{uuid.uuid4().hex[:6]}")
    relay = OutboxRelay(sessions, outbox, producer, poll_interval_s=0.05)
    seen = {"n": 0, "t0": 0.0}

    async def counted(deliveries: Sequence[Delivery]) -> None:
        seen["t0"] = seen["t0"] or time.perf_counter()
        await batch(deliveries)
        seen["n"] += len(deliveries)
        relay.wakeup()

    async def single(delivery: Delivery) -> None:
        await counted([delivery])

    loop = ConsumerLoop(
        bootstrap=bootstrap, group_id=f"bench-{uuid.uuid4().hex[:8]}", topics=[topics.lead_events],
        handler=single, dead_letters=producer, dlq_topic=topics.dlq, batch_handler=counted,
        fetch_max_wait_ms=20, max_batch=500,
    )  # fmt: skip
    stop = asyncio.Event()
    tasks = [asyncio.create_task(loop.run(stop)), asyncio.create_task(relay.run(stop))]
    try:
        while True:
            await asyncio.sleep(0.02)
            if seen["n"] >= n:
                async with sessions() as s:
                    pending = (
                        await s.execute(
                            select(func.count()).select_from(outbox).where(outbox.c.published_at.is_(None))
                        )
                    ).scalar_one()
                if pending == 0:
                    return n / (time.perf_counter() - seen["t0"])
    finally:
        stop.set()
        relay.wakeup()
        await asyncio.gather(*tasks, return_exceptions=True)
        await producer.stop()


def precompute(config: LeadRelayConfig, leads: list[tuple[CloudEvent, LeadCaptured]]) -> dict[str, tuple]:  # type: ignore[type-arg]
    """What the router will write for each lead, computed once, outside the timed window."""
    router = Router.from_config(config)
    now = datetime.now(UTC)
    states: dict = {}  # type: ignore[type-arg]
    out = {}
    profiles: dict = {}  # type: ignore[type-arg]
    for event, captured in leads:
        key = identity_key(captured.lead, router.profiles.identity_keys)
        a = router.assess(
            event.subject, event.id, captured.lead, captured.source, event.time, profiles.get(key)
        )
        profiles[key] = Router.profile_after(a)
        placement = None
        if a.triage.team is not None:
            name = a.triage.team.team.name
            placement, states[name] = router.place(a, states.get(name) or router_state(name), now)
        d = router.decide(a, placement, now)
        out[event.id] = (key, profiles[key], a.triage.team.team if a.triage.team else None, d, placement)
    return out


def router_state(name: str):  # type: ignore[no-untyped-def]
    from services.router.routing import TeamState

    return TeamState(name)


def baseline_batch(
    sessions: async_sessionmaker[AsyncSession], topics: Topics, rows: dict[str, tuple[Any, ...]]
) -> BatchFn:
    """The same statements as the router's batch, with the rows known in advance: no domain logic."""

    async def batch(deliveries: Sequence[Delivery]) -> None:
        ids = [_event_id(d) for d in deliveries]
        async with sessions() as session, session.begin():
            repo = RouterRepository(session)
            fresh = await repo.claim_many(ids)
            todo = [rows[i] for i in ids if i in fresh]
            profile_repo, routing_repo = ProfileRepository(session), RoutingRepository(session)
            await profile_repo.lock([t[0] for t in todo])
            teams = [t[2] for t in todo if t[2] is not None]
            states = await routing_repo.load(teams)
            # The same counter rows written back (values precomputed: the last state of each rep).
            await routing_repo.save({k: s.__class__(k) for k, s in states.items()}, states)
            owners = [
                (t[3].lead_id, t[4].rep_id, t[4].team, datetime.now(UTC))
                for t in todo
                if isinstance(t[4], Assignment)
            ]
            await routing_repo.own(owners)
            await profile_repo.save([t[1] for t in todo])
            await repo.record([r for t in todo for r in t[3].records()])
            await repo.enqueue(topics.handoffs, [e for t in todo for e in t[3].events()])

    return batch


def _event_id(delivery: Delivery) -> str:
    # The id sits in the JSON; the baseline reads it without building the event (a byte search).
    raw = delivery.value or b""
    start = raw.index(b'"id":"') + 6
    return raw[start : raw.index(b'"', start)].decode()


async def contender(
    kind: str, bootstrap: str, db_url: str, n: int, config: LeadRelayConfig
) -> tuple[float, float]:
    tag = uuid.uuid4().hex[:6]
    topics = Topics(f"bench-rt-{tag}.")
    await ensure_topics(bootstrap, topics.all(), partitions=3)
    leads = make_leads(n, tag)
    await produce(bootstrap, topics.lead_events, leads)
    raw = await consume_rate(bootstrap, topics.lead_events, n)
    engine = create_engine(db_url)
    try:
        await migrate_service(engine, "router")
        sessions = create_session_factory(engine)
        if kind == "baseline":
            batch = baseline_batch(sessions, topics, precompute(config, leads))
        else:
            _, batch, _ = router_handlers(
                sessions, Router.from_config(config, version="bench"), topics, lambda: None
            )
        return raw, await run_loop(bootstrap, topics, sessions, batch, n)
    finally:
        await engine.dispose()


async def fresh_postgres(url: str) -> str:
    import asyncpg  # type: ignore[import-untyped]
    from sqlalchemy.engine import make_url

    name = f"leadrelay_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(
        make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    )
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    return (
        make_url(url)
        .set(drivername="postgresql+asyncpg", database=name)
        .render_as_string(hide_password=False)
    )


async def main(args: argparse.Namespace) -> None:
    configure_logging("WARNING", "console")
    console = Console()
    broker = create_broker("embedded", log_path=Path(tempfile.mkdtemp()) / "broker.log")
    broker.start()
    config = bench_config()
    table = Table(title=f"Router throughput, {args.leads} leads, embedded broker, 3 partitions")
    for column in ("database", "raw consume /s", "baseline leads/s", "router leads/s", "router / baseline"):
        table.add_column(column, justify="right" if column != "database" else "left")
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for label in ["SQLite", *(["PostgreSQL"] if args.postgres else [])]:
                results: dict[str, tuple[float, float]] = {}
                for kind in ("baseline", "router", "baseline", "router"):  # interleaved, best of two
                    if label == "SQLite":
                        url = f"sqlite+aiosqlite:///{tmp}/{kind}{uuid.uuid4().hex[:6]}.db"
                    else:
                        url = await fresh_postgres(args.postgres)
                    raw, rate = await contender(kind, broker.bootstrap, url, args.leads, config)
                    best = results.get(kind, (0.0, 0.0))
                    results[kind] = (max(best[0], raw), max(best[1], rate))
                    console.print(f"{label} {kind}: {rate:.0f} leads/s (raw consume {raw:.0f}/s)")
                raw = max(results["baseline"][0], results["router"][0])
                b, r = results["baseline"][1], results["router"][1]
                table.add_row(label, f"{raw:,.0f}", f"{b:,.0f}", f"{r:,.0f}", f"{r / b:.2f}x")
    finally:
        broker.stop()
    console.print(table)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--leads", type=int, default=3000)
    parser.add_argument("--postgres", help="PostgreSQL URL (a fresh database is created per contender)")
    asyncio.run(main(parser.parse_args()))
