"""Scenario 2: webhook → `lead.assigned` on the handoffs topic, all services as processes, steady load."""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
import time
import uuid
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer
from rich.progress import Progress as ProgressUI
from rich.progress import TaskID

from bench.load import percentile
from services.devstack import ServiceProcess, service_env, start_service, stop_all, wait_ready
from shared.events import CloudEvent, LeadAssigned, Topics
from shared.kafka import ensure_topics
from shared.kafka.brokers import BrokerKind, create_broker

PARTITIONS = 3  # as service_env configures the services
API_KEY = "bench-e2e-key"


@dataclass(frozen=True)
class LatencyConfig:
    leads: int
    rates: tuple[float, ...]
    warmup: int = 20
    drain_timeout_s: float = 60.0


@dataclass(frozen=True)
class Arrival:
    perf: float  # time.perf_counter() when the watcher read it
    wall: float
    produced: float  # Kafka record timestamp (the router's outbox relay), epoch seconds
    decided: float  # LeadAssigned.decided_at: when the router started deciding, epoch seconds


@dataclass
class LatencyResult:
    rate_target: float
    broker: str = "embedded"
    sent: int = 0
    rate_achieved: float = 0.0
    statuses: Counter[int] = field(default_factory=Counter)
    latencies_ms: list[float] = field(default_factory=list)
    ack_ms: list[float] = field(default_factory=list)
    stages_ms: dict[str, list[float]] = field(default_factory=dict)
    # Per lead, in send order: seconds since the first send, latency ms, then each stage in ms.
    series: list[tuple[float, ...]] = field(default_factory=list)

    @property
    def arrived(self) -> int:
        return len(self.latencies_ms)

    def drift_ms(self) -> tuple[float, float]:
        """P50 latency of the first and of the last fifth of the leads, in send order."""
        fifth = max(len(self.series) // 5, 1)
        ordered = sorted(self.series)
        return percentile([r[1] for r in ordered[:fifth]], 50), percentile(
            [r[1] for r in ordered[-fifth:]], 50
        )

    def to_json(self) -> dict[str, Any]:
        def pcts(values: list[float]) -> dict[str, float]:
            return {f"p{q}": percentile(values, q) for q in (50, 90, 99)} | {"max": max(values, default=0.0)}

        return {
            "broker": self.broker,
            "rate_target_per_s": self.rate_target,
            "rate_achieved_per_s": self.rate_achieved,
            "sent": self.sent,
            "handoffs_arrived": self.arrived,
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "latency_ms": pcts(self.latencies_ms),
            "http_202_ms": pcts(self.ack_ms),
            "stages_ms_p50": {k: percentile(v, 50) for k, v in self.stages_ms.items()},
            "p50_first_vs_last_fifth_ms": self.drift_ms(),
        }


class HandoffWatcher:
    """A plain consumer (no group) on the handoffs topic, noting when each lead.assigned arrives."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        self.consumer = AIOKafkaConsumer(
            topic,
            bootstrap_servers=bootstrap,
            group_id=None,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
            fetch_max_wait_ms=50,  # the observer's own wait must not dominate what it measures
        )
        self.arrivals: dict[str, Arrival] = {}
        self.duplicates = 0
        self.unreadable = 0

    async def run(self) -> None:
        while True:
            for records in (await self.consumer.getmany(timeout_ms=100)).values():
                perf, wall = time.perf_counter(), time.time()
                for record in records:
                    try:
                        event = CloudEvent.from_bytes(record.value)
                        if event.type != LeadAssigned.event_type:
                            continue
                        decided = event.payload(LeadAssigned).decided_at.timestamp()
                    except ValueError:
                        self.unreadable += 1
                        continue
                    if event.subject in self.arrivals:
                        self.duplicates += 1
                        continue
                    self.arrivals[event.subject] = Arrival(perf, wall, record.timestamp / 1000, decided)


def _lead(tag: str, n: int) -> tuple[str, bytes]:
    lead_id = f"bench-{tag}-{n:06d}"
    body = {
        "lead_id": lead_id,
        "email": f"buyer{n}.{tag}@company{n}.example",
        "company": f"Company {n}",
        "employees": 500,
        "country": "US",
    }
    return lead_id, json.dumps(body).encode()


async def _drive(
    url: str, watcher: HandoffWatcher, count: int, rate: float, ui: ProgressUI, task: TaskID, timeout_s: float
) -> LatencyResult:
    """Post `count` leads at `rate`/s (open loop: a slow answer never delays the next send)."""
    result = LatencyResult(rate)
    tag = uuid.uuid4().hex[:8]
    leads = [_lead(tag, n) for n in range(count)]
    sent_perf: dict[str, float] = {}
    sent_wall: dict[str, float] = {}
    headers = {"Content-Type": "application/json", "X-API-Key": API_KEY}
    limits = httpx.Limits(max_connections=256, max_keepalive_connections=64)

    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=30.0) as client:

        async def post(lead_id: str, body: bytes) -> None:
            sent_wall[lead_id], sent_perf[lead_id] = time.time(), time.perf_counter()
            try:
                status = (await client.post("/v1/leads", content=body, headers=headers)).status_code
            except httpx.HTTPError:
                status = 0
            result.ack_ms.append(1000 * (time.perf_counter() - sent_perf[lead_id]))
            result.statuses[status] += 1

        start = time.perf_counter() + 0.05
        posts = []
        for n, (lead_id, body) in enumerate(leads):
            if (pause := start + n / rate - time.perf_counter()) > 0:
                await asyncio.sleep(pause)
            posts.append(asyncio.create_task(post(lead_id, body)))
            ui.update(task, completed=n + 1)
        await asyncio.gather(*posts)
    times = sorted(sent_perf.values())
    result.sent = len(times)
    result.rate_achieved = (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 else 0.0

    deadline = time.perf_counter() + timeout_s
    ids = [lead_id for lead_id, _ in leads]
    while (arrived := sum(i in watcher.arrivals for i in ids)) < count and time.perf_counter() < deadline:
        ui.update(task, description=f"e2e @{rate:g}/s: waiting for handoffs ({arrived}/{count})")
        await asyncio.sleep(0.1)
    stages: dict[str, list[float]] = {"webhook→router decided": [], "decided→relay produced": []}
    stages["relay produced→received"] = []
    for lead_id in ids:
        if (arrival := watcher.arrivals.get(lead_id)) is None:
            continue
        row = (
            sent_perf[lead_id] - times[0],
            1000 * (arrival.perf - sent_perf[lead_id]),
            1000 * (arrival.decided - sent_wall[lead_id]),
            1000 * (arrival.produced - arrival.decided),
            1000 * (arrival.wall - arrival.produced),
        )
        result.series.append(row)
        result.latencies_ms.append(row[1])
        for stage, value in zip(stages.values(), row[2:], strict=True):
            stage.append(value)
    result.stages_ms = stages
    return result


async def _measure(
    bootstrap: str, topic: str, url: str, cfg: LatencyConfig, ui: ProgressUI
) -> tuple[list[LatencyResult], dict[str, int]]:
    watcher = HandoffWatcher(bootstrap, topic)
    await watcher.consumer.start()
    reader = asyncio.create_task(watcher.run())
    try:
        while not watcher.consumer.assignment():
            await asyncio.sleep(0.05)
        warm = ui.add_task("e2e: warm-up", total=cfg.warmup)
        await _drive(url, watcher, cfg.warmup, 20.0, ui, warm, cfg.drain_timeout_s)
        ui.update(warm, visible=False)
        results = []
        for rate in cfg.rates:
            task = ui.add_task(f"e2e @{rate:g}/s: posting leads", total=cfg.leads)
            results.append(await _drive(url, watcher, cfg.leads, rate, ui, task, cfg.drain_timeout_s))
            ui.update(task, description=f"e2e @{rate:g}/s: done")
        return results, {"duplicate_handoffs": watcher.duplicates, "unreadable": watcher.unreadable}
    finally:
        reader.cancel()
        await asyncio.gather(reader, return_exceptions=True)
        await watcher.consumer.stop()


def run_latency(
    cfg: LatencyConfig, runner: asyncio.Runner, ui: ProgressUI, log_dir: Path, broker_kind: BrokerKind
) -> tuple[list[LatencyResult], dict[str, Any]]:
    """Broker + metrics, router, ingest as processes (like the e2e tests), SQLite in a temp dir."""
    with tempfile.TemporaryDirectory(prefix="leadrelay-bench-e2e-") as tmp, ExitStack() as stack:
        task = ui.add_task(f"e2e on {broker_kind}: starting broker and services", total=None)
        broker = create_broker(broker_kind, log_path=log_dir / f"broker-e2e-{broker_kind}.log")
        broker.start()
        stack.callback(broker.stop)
        prefix = f"bench-e2e-{uuid.uuid4().hex[:8]}."
        topics = Topics(prefix)
        runner.run(ensure_topics(broker.bootstrap, topics.all(), partitions=PARTITIONS))
        # Like `leadrelay up`: one SQLite file per service, unless a shared database is named.
        shared_url = os.environ.get("LEADRELAY_BENCH_DATABASE_URL")
        url = shared_url or f"sqlite+aiosqlite:///{tmp}/unused.db"
        env = service_env(broker.bootstrap, url, prefix, api_key=API_KEY, partitions=PARTITIONS)
        if shared_url is None:
            for name in ("ingest", "router", "metrics"):
                env[f"LEADRELAY_{name.upper()}_DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp}/{name}.db"
        log_dir = log_dir / f"e2e-{broker_kind}"
        log_dir.mkdir(exist_ok=True)
        services: list[ServiceProcess] = []
        exit_codes: dict[str, int | None] = {}
        stack.callback(lambda: exit_codes.update(stop_all(services)))
        for name in ("metrics", "router", "ingest"):
            services.append(start_service(name, env, log_dir))
        wait_ready(services)
        ui.update(task, visible=False)
        results, counts = runner.run(_measure(broker.bootstrap, topics.handoffs, services[2].url, cfg, ui))
        for result in results:
            result.broker = broker_kind
        stack.close()  # stop services (SIGTERM, graceful) before the temp dir goes
        return results, {**counts, "service_exit_codes": exit_codes}
