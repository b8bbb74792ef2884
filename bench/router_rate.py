"""Scenario 3: the router's own rate, leads/s, on one broker.

The router runs alone as a process (SQLite of its own, 3 partitions, the example config). A burst of
`lead.captured` events, all qualifying (the full hot path: rules, team, rep rotation, outbox,
`lead.qualified` + `lead.assigned` + SLA clocks), is produced straight to the topic, far faster than
the router drains it; the rate is the router's, measured between the first and the last
`lead.assigned` read back (so producing the burst and starting up are outside the window).
"""

from __future__ import annotations

import asyncio
import tempfile
import time
import uuid
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.progress import Progress as ProgressUI

from bench.latency import PARTITIONS, HandoffWatcher
from bench.procs import cpu_seconds
from services.devstack import service_env, start_service, stop_all, wait_ready
from shared.events import CloudEvent, LeadCaptured, LeadData, Topics
from shared.kafka import EventProducer, ensure_topics
from shared.kafka.brokers import BrokerKind, create_broker
from shared.kafka.producer import OutgoingMessage


@dataclass(frozen=True)
class RouterRateConfig:
    leads: int
    warmup: int = 50
    timeout_s: float = 180.0


@dataclass
class RouterRateResult:
    broker: str
    leads: int
    assigned: int = 0
    seconds: float = 0.0
    router_cpu_s: float = 0.0
    broker_cpu_s: float = 0.0
    duplicates: int = 0

    @property
    def leads_per_s(self) -> float:
        return (self.assigned - 1) / self.seconds if self.seconds > 0 and self.assigned > 1 else 0.0

    @property
    def router_cpu_ms_per_lead(self) -> float:
        return 1000 * self.router_cpu_s / self.assigned if self.assigned else 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "broker": self.broker,
            "leads": self.leads,
            "assigned": self.assigned,
            "seconds": self.seconds,
            "leads_per_s": self.leads_per_s,
            "router_cpu_ms_per_lead": self.router_cpu_ms_per_lead,
            "broker_cpu_ms_per_lead": 1000 * self.broker_cpu_s / self.assigned if self.assigned else 0.0,
            "duplicate_assignments": self.duplicates,
        }


def _captured(topic: str, tag: str, n: int) -> tuple[str, OutgoingMessage]:
    lead_id = f"rate-{tag}-{n:06d}"
    now = datetime.now(UTC)
    lead = LeadData(email=f"buyer{n}@company{n}.example", company=f"Company {n}", employees=500, country="US")
    event = LeadCaptured(lead=lead, source="api", received_at=now)
    envelope = CloudEvent.wrap(event, subject=lead_id, source="leadrelay/bench", time=now)
    return lead_id, OutgoingMessage(topic, lead_id.encode(), envelope.to_bytes())


async def _burst(bootstrap: str, messages: list[OutgoingMessage]) -> None:
    producer = EventProducer(bootstrap, client_id="bench-burst", linger_ms=5, send_timeout_s=60.0)
    try:
        for start in range(0, len(messages), 500):
            await producer.publish_many(messages[start : start + 500])
    finally:
        await producer.stop()


async def _measure(
    bootstrap: str, topics: Topics, cfg: RouterRateConfig, result: RouterRateResult, pids: tuple[int, int]
) -> None:
    watcher = HandoffWatcher(bootstrap, topics.handoffs)
    await watcher.consumer.start()
    reader = asyncio.create_task(watcher.run())
    try:
        for count in (cfg.warmup, cfg.leads):
            tag = uuid.uuid4().hex[:8]
            pairs = [_captured(topics.lead_events, tag, n) for n in range(count)]
            ids = [lead_id for lead_id, _ in pairs]
            cpu0 = (cpu_seconds(pids[0]), cpu_seconds(pids[1]))
            await _burst(bootstrap, [m for _, m in pairs])
            deadline = time.perf_counter() + cfg.timeout_s
            while sum(i in watcher.arrivals for i in ids) < count and time.perf_counter() < deadline:
                await asyncio.sleep(0.05)
        result.router_cpu_s = cpu_seconds(pids[0]) - cpu0[0]
        result.broker_cpu_s = cpu_seconds(pids[1]) - cpu0[1]
        times = sorted(a.perf for i in ids if (a := watcher.arrivals.get(i)) is not None)
        result.assigned = len(times)
        result.seconds = times[-1] - times[0] if len(times) > 1 else 0.0
        result.duplicates = watcher.duplicates
    finally:
        reader.cancel()
        await asyncio.gather(reader, return_exceptions=True)
        await watcher.consumer.stop()


def run_router_rate(
    cfg: RouterRateConfig, runner: asyncio.Runner, ui: ProgressUI, log_dir: Path, broker_kind: BrokerKind
) -> RouterRateResult:
    result = RouterRateResult(broker_kind, cfg.leads)
    with tempfile.TemporaryDirectory(prefix="leadrelay-bench-router-") as tmp, ExitStack() as stack:
        task = ui.add_task(f"router rate on {broker_kind}: {cfg.leads} leads", total=None)
        broker = create_broker(broker_kind, log_path=log_dir / f"broker-router-{broker_kind}.log")
        broker.start()
        stack.callback(broker.stop)
        prefix = f"bench-rr-{uuid.uuid4().hex[:8]}."
        topics = Topics(prefix)
        runner.run(ensure_topics(broker.bootstrap, topics.all(), partitions=PARTITIONS))
        env = service_env(broker.bootstrap, f"sqlite+aiosqlite:///{tmp}/router.db", prefix, api_key="unused")
        router_logs = log_dir / f"router-rate-{broker_kind}"
        router_logs.mkdir(exist_ok=True)
        router = start_service("router", env, router_logs)
        stack.callback(lambda: stop_all([router]))
        wait_ready([router])
        assert router.pid is not None and broker.pid is not None
        runner.run(_measure(broker.bootstrap, topics, cfg, result, (router.pid, broker.pid)))
        ui.update(task, description=f"router rate on {broker_kind}: {result.leads_per_s:.0f} leads/s")
    return result
