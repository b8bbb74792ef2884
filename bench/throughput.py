"""Scenario 1: ingest throughput with a durable ack vs a bare FastAPI endpoint, rounds interleaved."""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.progress import Progress as ProgressUI
from rich.progress import TaskID

from bench.load import API_KEY, Progress, RoundStats, closed_loop, connections, percentile
from bench.procs import cpu_seconds, start_uvicorn
from services.devstack import ServiceProcess, clean_env, wait_ready
from shared.events import Topics
from shared.kafka import ensure_topics
from shared.kafka.embedded import EmbeddedBroker


@dataclass(frozen=True)
class ThroughputConfig:
    requests: int
    warmup: int
    concurrency: int
    rounds: int
    idempotency: bool  # also measure the ingest with a unique Idempotency-Key per request


@dataclass
class TargetResult:
    name: str
    description: str
    rounds: list[RoundStats] = field(default_factory=list)
    warmup_non_202: int = 0
    warmup_requests: int = 0
    server_cpu_s: float = 0.0
    broker_cpu_s: float = 0.0
    client_cpu_s: float = 0.0

    @property
    def median_rps(self) -> float:
        return statistics.median(r.rps for r in self.rounds) if self.rounds else 0.0

    @property
    def requests(self) -> int:
        return sum(r.requests for r in self.rounds)

    @property
    def non_202(self) -> int:
        return sum(r.non_202 for r in self.rounds) + self.warmup_non_202

    @property
    def non_202_share(self) -> float:
        sent = self.requests + self.warmup_requests
        return self.non_202 / sent if sent else 0.0

    @property
    def generator_core_share(self) -> float:
        """How busy the load generator kept one core (1.0 = saturated: the run measured the client)."""
        seconds = sum(r.seconds for r in self.rounds)
        return self.client_cpu_s / seconds if seconds else 0.0

    def latency_ms(self, q: float) -> float:
        return 1000 * percentile([x for r in self.rounds for x in r.latencies], q)

    def cpu_ms_per_request(self, seconds: float) -> float:
        return 1000 * seconds / self.requests if self.requests else 0.0

    def to_json(self) -> dict[str, Any]:
        statuses: Counter[int] = Counter()
        for r in self.rounds:
            statuses.update(r.statuses)
        return {
            "description": self.description,
            "median_rps": self.median_rps,
            "rounds_rps": [r.rps for r in self.rounds],
            "requests_measured": self.requests,
            "non_202": self.non_202,
            "non_202_share": self.non_202_share,
            "statuses": {str(k): v for k, v in sorted(statuses.items())},
            "latency_ms": {f"p{q}": self.latency_ms(q) for q in (50, 90, 99)},
            "cpu_ms_per_request": {
                "server": self.cpu_ms_per_request(self.server_cpu_s),
                "broker": self.cpu_ms_per_request(self.broker_cpu_s),
                "load_generator": self.cpu_ms_per_request(self.client_cpu_s),
            },
            "load_generator_core_share": self.generator_core_share,
        }


@dataclass
class _Target:
    result: TargetResult
    server: ServiceProcess
    idempotency: bool


async def _tick(ui: ProgressUI, task: TaskID, base: int, counter: Progress) -> None:
    while True:
        ui.update(task, completed=base + counter.done)
        await asyncio.sleep(0.2)


async def _round(
    target: _Target, cfg: ThroughputConfig, broker_pid: int | None, ui: ProgressUI, task: TaskID, base: int
) -> None:
    counter = Progress()
    ticker = asyncio.create_task(_tick(ui, task, base, counter))
    tag = uuid.uuid4().hex[:12]

    def keys(phase: str) -> Callable[[int], str] | None:
        return (lambda n: f"bench-{tag}-{phase}-{n}") if target.idempotency else None

    result = target.result
    try:
        async with connections(target.server.url, cfg.concurrency) as clients:
            warm = await closed_loop(clients, cfg.warmup, counter, keys("warm"))
            result.warmup_non_202 += warm.non_202
            result.warmup_requests += warm.requests
            server_pid = target.server.pid
            server0, broker0, client0 = cpu_seconds(server_pid), cpu_seconds(broker_pid), time.process_time()
            stats = await closed_loop(clients, cfg.requests, counter, keys("run"))
            result.server_cpu_s += cpu_seconds(server_pid) - server0
            result.broker_cpu_s += cpu_seconds(broker_pid) - broker0
            result.client_cpu_s += time.process_time() - client0
        result.rounds.append(stats)
    finally:
        ticker.cancel()


def run_throughput(
    cfg: ThroughputConfig, runner: asyncio.Runner, ui: ProgressUI, log_dir: Path
) -> list[TargetResult]:
    """Start the broker and both apps, then run the rounds, rotating the order every round."""
    with tempfile.TemporaryDirectory(prefix="leadrelay-bench-") as tmp, ExitStack() as stack:
        task = ui.add_task("throughput: starting broker and servers", total=None)
        broker = EmbeddedBroker(log_path=log_dir / "broker-throughput.log")
        broker.start()
        stack.callback(broker.stop)
        prefix = f"bench-{uuid.uuid4().hex[:8]}."
        runner.run(ensure_topics(broker.bootstrap, Topics(prefix).all()))
        env = clean_env(
            {
                "BENCH_KAFKA_BOOTSTRAP": broker.bootstrap,
                "BENCH_DATABASE_URL": f"sqlite+aiosqlite:///{tmp}/ingest.db",
                "BENCH_TOPIC_PREFIX": prefix,
                "BENCH_API_KEY": API_KEY,
            }
        )
        servers: list[ServiceProcess] = []
        for name, factory in (("baseline", "bench.serve_baseline"), ("ingest", "bench.serve_ingest")):
            servers.append(start_uvicorn(name, f"{factory}:create_app", env, log_dir))
            stack.callback(servers[-1].child.stop)
        wait_ready(servers)
        baseline, ingest = servers
        targets = [
            _Target(TargetResult("baseline", "bare FastAPI, pydantic parse, 202, no Kafka"), baseline, False),
            _Target(
                TargetResult("ingest", "real ingest app, 202 after broker ack (acks=all)"), ingest, False
            ),
        ]
        if cfg.idempotency:
            description = "real ingest + unique Idempotency-Key (SQLite lookup + insert)"
            targets.append(_Target(TargetResult("ingest+idempotency", description), ingest, True))
        per_round = cfg.warmup + cfg.requests
        ui.update(task, total=cfg.rounds * len(targets) * per_round, completed=0)
        done = 0
        for n in range(cfg.rounds):
            order = targets[n % len(targets) :] + targets[: n % len(targets)]
            for target in order:
                ui.update(task, description=f"throughput: {target.result.name} round {n + 1}/{cfg.rounds}")
                runner.run(_round(target, cfg, broker.pid, ui, task, done))
                done += per_round
                ui.update(task, completed=done)
        ui.update(task, description="throughput: done")
        return [t.result for t in targets]
