"""Delivery: the deliverer's throughput vs a bare loop of the same signed POSTs, and its lag.

    .venv/bin/python bench/delivery.py            # about 40 s
    .venv/bin/python bench/delivery.py --quick    # smoke run

One run, one table, on the embedded broker and a SQLite file. Cores pinned (`taskset`): the receiver and
the broker on core 0, this process (the bare loop, then the deliverer) alone on core 1, so both sides
get the same core and the figure is the measured side's own cost (CPU per delivery in the table).
1. bare loop: `--messages` Standard-Webhooks-signed POSTs of handoff CloudEvents to a local receiver
   (its own process), with one httpx.AsyncClient and `--concurrency` requests in flight;
2. deliverer: the same number of handoff events already on the topic, then the deliverer (consumer,
   durable queue in SQLite, dispatcher, same client limits and concurrency) delivers them to the same
   receiver: deliveries/s from the first delivery to the last;
3. lag: a steady `--rate` events/s for `--seconds`, published while the deliverer runs; lag = arrival
   at the receiver - publish time (P50/P99).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
from aiokafka import AIOKafkaProducer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from bench.handoff_events import SECRET, assigned, config_with, endpoint
from services.delivery.bootstrap import DeliveryService, bootstrap
from services.delivery.devreceiver import Receiver
from services.delivery.settings import DeliverySettings
from services.delivery.signing import Signer
from shared.events import Topics
from shared.kafka.brokers import create_broker
from shared.kafka.process import free_port, port_open
from shared.runtime import prepare_service
from shared.settings import CommonSettings

console = Console(width=max(Console().width, 120))
SERVER_CORE, CLIENT_CORE = "0", "1"  # receiver + broker | the measured side (bare loop, deliverer)


def cpu_s() -> float:
    """This process's CPU time so far (user + system), seconds."""
    times = os.times()
    return times.user + times.system


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description:<28}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=console,
    )  # fmt: skip


async def bare_loop(
    url: str, bodies: list[bytes], concurrency: int, progress: Progress
) -> tuple[float, float]:
    task = progress.add_task("bare loop (signed POSTs)", total=len(bodies))
    signer = Signer([SECRET])
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits) as client:

        async def worker() -> None:
            while not queue.empty():
                body = queue.get_nowait()
                event_id = json.loads(body)["id"]
                headers = signer.headers(event_id, datetime.now(UTC), body)
                headers["content-type"] = "application/cloudevents+json"
                response = await client.post(url, content=body, headers=headers, timeout=10)
                assert 200 <= response.status_code < 300
                progress.advance(task)

        started, cpu0 = time.perf_counter(), cpu_s()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return len(bodies) / (time.perf_counter() - started), (cpu_s() - cpu0) / len(bodies)


async def publish(bootstrap: str, topic: str, bodies: list[bytes], rate: float = 0.0) -> list[float]:
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", enable_idempotence=False, linger_ms=5
    )
    await producer.start()
    sent: list[float] = []
    try:
        started = time.perf_counter()
        futures = []
        for n, body in enumerate(bodies):
            if rate:
                await asyncio.sleep(max(0.0, started + n / rate - time.perf_counter()))
            sent.append(time.time())
            futures.append(await producer.send(topic, value=body, key=json.loads(body)["subject"].encode()))
        await asyncio.gather(*futures)
    finally:
        await producer.stop()
    return sent


def deliverer(tmp: Path, bootstrap: str, prefix: str, url: str, concurrency: int) -> DeliveryService:
    common = CommonSettings(kafka_bootstrap=bootstrap, topic_prefix=prefix, kafka_partitions=3)
    settings = DeliverySettings(
        database_url=f"sqlite+aiosqlite:///{tmp / (prefix + 'db')}",
        group_id=f"{prefix}delivery",
        common=common,
    )
    config = config_with(deliveries=[endpoint("bench", url, concurrency=concurrency, timeout_s=10)])
    return bootstrap_service(settings, config)


def bootstrap_service(settings: DeliverySettings, config: object) -> DeliveryService:
    return bootstrap(settings, config)  # type: ignore[arg-type]


async def run_service(service: DeliveryService, stop: asyncio.Event) -> list[asyncio.Task[None]]:
    await prepare_service(service.parts.engine, "delivery", service.parts.common)
    return [
        asyncio.create_task(service.consumer.run(stop)),
        asyncio.create_task(service.dispatcher.run(stop)),
    ]


async def through_deliverer(
    tmp: Path,
    bootstrap: str,
    url: str,
    bodies: list[bytes],
    concurrency: int,
    progress: Progress,
    round_: int,
) -> tuple[float, float]:
    prefix = f"bench-rate{round_}."
    service = deliverer(tmp, bootstrap, prefix, url, concurrency)
    stop = asyncio.Event()
    await prepare_service(service.parts.engine, "delivery", service.parts.common)
    await publish(bootstrap, Topics(prefix).handoffs, bodies)  # a backlog, as after an outage
    task = progress.add_task("deliverer (same POSTs)", total=len(bodies))
    cpu0 = cpu_s()
    tasks = await run_service(service, stop)
    first = last = 0.0
    while service.dispatcher.delivered < len(bodies):
        await asyncio.sleep(0.01)
        if service.dispatcher.delivered and not first:
            first = time.perf_counter()
        progress.update(task, completed=service.dispatcher.delivered)
    last = time.perf_counter()
    cpu = (cpu_s() - cpu0) / len(bodies)
    progress.update(task, completed=len(bodies))
    stop.set()
    await asyncio.gather(*tasks)
    await service.outbound.aclose()
    await service.parts.producer.stop()
    await service.parts.engine.dispose()
    return (len(bodies) - 1) / (last - first), cpu


async def lag(
    tmp: Path, bootstrap: str, rate: float, seconds: float, concurrency: int, progress: Progress
) -> list[float]:
    receiver = Receiver()
    url = await receiver.start()
    prefix = "bench-lag."
    service = deliverer(tmp, bootstrap, prefix, url, concurrency)
    stop = asyncio.Event()
    tasks = await run_service(service, stop)
    while not service.consumer.ready.is_set():
        await asyncio.sleep(0.05)
    count = int(rate * seconds)
    bodies = [assigned(f"lag-{n}", n) for n in range(count)]
    task = progress.add_task(f"lag at {rate:g}/s", total=count)
    publisher = asyncio.create_task(publish(bootstrap, Topics(prefix).handoffs, bodies, rate))
    deadline = time.monotonic() + seconds + 30
    while receiver.count < count and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
        progress.update(task, completed=receiver.count)
    sent = await publisher
    stop.set()
    await asyncio.gather(*tasks)
    await service.outbound.aclose()
    await service.parts.producer.stop()
    await service.parts.engine.dispose()
    await receiver.stop()
    at = {json.loads(r.body)["subject"]: r.at for r in receiver.received}
    return sorted(at[f"lag-{n}"] - sent[n] for n in range(count) if f"lag-{n}" in at)


def _pct(values: list[float], p: float) -> float:
    return values[min(len(values) - 1, int(p * len(values)))] if values else float("nan")


async def main(args: argparse.Namespace) -> int:
    tmp = Path(tempfile.mkdtemp(prefix="bench-delivery-"))
    broker = create_broker("embedded", log_path=tmp / "broker.log")
    broker.start()
    pinned = len(os.sched_getaffinity(0)) >= 2 and not args.no_pin
    if pinned and broker.pid is not None:
        subprocess.run(["taskset", "-acp", SERVER_CORE, str(broker.pid)], check=True, capture_output=True)
    port = free_port()
    receiver = subprocess.Popen(
        [
            *(["taskset", "-c", SERVER_CORE] if pinned else []),
            *[sys.executable, "-m", "services.delivery.devreceiver", "--port", str(port)],
        ],
        stdout=subprocess.DEVNULL,
    )
    if pinned:
        os.sched_setaffinity(0, {int(CLIENT_CORE)})
    try:
        while not port_open("127.0.0.1", port):
            await asyncio.sleep(0.05)
        url = f"http://127.0.0.1:{port}/hooks"
        bodies = [assigned(f"lead-{n}", n) for n in range(args.messages)]
        bares, throughs, bare_cpu, through_cpu = [], [], [], []
        with _progress() as progress:
            # Interleaved rounds, medians: the machine's other load hits both sides alike.
            for round_ in range(args.rounds):
                rate, cpu = await bare_loop(url, bodies, args.concurrency, progress)
                bares.append(rate)
                bare_cpu.append(cpu)
                rate, cpu = await through_deliverer(
                    tmp, broker.bootstrap, url, bodies, args.concurrency, progress, round_
                )
                throughs.append(rate)
                through_cpu.append(cpu)
            lags = await lag(tmp, broker.bootstrap, args.rate, args.seconds, args.concurrency, progress)
    finally:
        receiver.terminate()
        receiver.wait(10)
        broker.stop()
    bare, through = statistics.median(bares), statistics.median(throughs)
    ratio = statistics.median(t / b for t, b in zip(throughs, bares, strict=True))
    table = Table(
        title=f"delivery: {args.messages} signed POSTs, {args.concurrency} in flight, local receiver, "
        f"median of {args.rounds} interleaved rounds"
        + (f"; receiver + broker on core {SERVER_CORE}, measured on core {CLIENT_CORE}" if pinned else "")
    )
    for column in ("what", "figure", "CPU / delivery", "target"):
        table.add_column(column)
    table.add_row(
        "bare loop (httpx, signed, same limits)",
        f"{bare:,.0f} deliveries/s",
        f"{1000 * statistics.median(bare_cpu):.2f} ms",
        "",
    )
    table.add_row(
        "through the deliverer (topic → SQLite queue → POST)",
        f"{through:,.0f} deliveries/s",
        f"{1000 * statistics.median(through_cpu):.2f} ms",
        "",
    )
    table.add_row(
        "ratio (median of per-round ratios; CPU: bare ÷ deliverer)",
        f"[bold]{ratio:.2f}x[/]",
        f"{statistics.median(bare_cpu) / statistics.median(through_cpu):.2f}x",
        "≥ 0.7x: " + ("met" if ratio >= 0.7 else "[red]not met[/]"),
    )
    table.add_row(
        f"lag publish → receiver at {args.rate:g} events/s for {args.seconds:g}s",
        f"P50 {1000 * _pct(lags, 0.5):.0f} ms, P99 {1000 * _pct(lags, 0.99):.0f} ms "
        f"({len(lags)}/{int(args.rate * args.seconds)})",
        "",
        "",
    )
    console.print(table)
    rounds = ", ".join(f"{t:,.0f}/{b:,.0f}" for t, b in zip(throughs, bares, strict=True))
    console.print(f"per round, deliverer/bare loop (deliveries/s): {rounds}")
    console.print(f"load average at the end: {os.getloadavg()[0]:.2f} (1 min)")
    console.print(f"median lag {1000 * statistics.median(lags):.0f} ms" if lags else "no lag samples")
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--messages", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--no-pin", action="store_true", help="do not pin cores (taskset)")
    parsed = parser.parse_args()
    if parsed.quick:
        parsed.messages, parsed.seconds, parsed.rounds = 500, 3.0, 1
    sys.exit(asyncio.run(main(parsed)))
