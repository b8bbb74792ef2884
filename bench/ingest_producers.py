"""Producer clients side by side on the embedded broker (issue 5, item 8: choose on the numbers).

aiokafka through LeadRelay's `EventProducer.publish` (what ingest runs) against confluent-kafka
(librdkafka, its delivery callbacks bridged to asyncio futures by a poll thread), each driven the way
ingest drives a producer: 32 concurrent writers, each awaiting its own acks=all acknowledgement of a
~700-byte record with a key and the CloudEvents content-type header. This process on core 0, the
broker on core 1; client CPU per acknowledged message from the process's CPU time (all its threads,
librdkafka's included). Rounds interleaved, median reported.

    .venv/bin/python bench/ingest_producers.py            # 3 rounds of 4 s per client
    .venv/bin/python bench/ingest_producers.py --quick    # 1 round of 2 s
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import uvloop
from confluent_kafka import KafkaError, Producer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from shared.kafka.admin import ensure_topics
from shared.kafka.embedded import EmbeddedBroker
from shared.kafka.producer import CLOUDEVENTS_CONTENT_TYPE, EventProducer, OutgoingMessage

TOPIC, VALUE, WRITERS = "bench.producers", b"x" * 700, 32
Publish = Callable[[bytes], Awaitable[None]]


async def drive(publish: Publish, seconds: float) -> tuple[float, float]:
    """Acked messages per second and client CPU µs per message, WRITERS awaiting their own acks."""
    count, stop = 0, time.monotonic() + seconds

    async def writer(w: int) -> None:
        nonlocal count
        i = 0
        while time.monotonic() < stop:
            i += 1
            await publish(f"lead-{w}-{i}-0123456789abcdef0123".encode())
            count += 1

    cpu, wall = time.process_time(), time.monotonic()
    await asyncio.gather(*(writer(w) for w in range(WRITERS)))
    cpu, wall = time.process_time() - cpu, time.monotonic() - wall
    return count / wall, 1e6 * cpu / max(count, 1)


async def aiokafka_round(bootstrap: str, seconds: float) -> tuple[float, float]:
    producer = EventProducer(bootstrap, client_id="bench-producers")
    await producer.start()
    try:
        await drive(lambda key: producer.publish(OutgoingMessage(TOPIC, key, VALUE)), 0.5)  # warm
        return await drive(lambda key: producer.publish(OutgoingMessage(TOPIC, key, VALUE)), seconds)
    finally:
        await producer.stop()


async def confluent_round(bootstrap: str, seconds: float, linger_ms: int) -> tuple[float, float]:
    loop = asyncio.get_running_loop()
    # No idempotence: the embedded broker refuses InitProducerId (as EventProducer finds out).
    config = {
        "bootstrap.servers": bootstrap,
        "acks": "all",
        "linger.ms": linger_ms,
        "enable.idempotence": False,
    }
    producer = Producer(config)
    stopped = threading.Event()

    def poll() -> None:  # delivery callbacks run here, on the poll thread
        while not stopped.is_set():
            producer.poll(0.05)

    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    headers: list[tuple[str, str | bytes | None]] = [("content-type", CLOUDEVENTS_CONTENT_TYPE.encode())]

    def settle(future: asyncio.Future[None], err: KafkaError | None) -> None:
        if not future.done():
            future.set_exception(RuntimeError(str(err))) if err else future.set_result(None)

    def publish(key: bytes) -> asyncio.Future[None]:
        future: asyncio.Future[None] = loop.create_future()

        def delivered(err: KafkaError | None, _: Any) -> None:
            loop.call_soon_threadsafe(settle, future, err)

        producer.produce(TOPIC, VALUE, key, headers=headers, on_delivery=delivered)
        return future

    try:
        await drive(publish, 0.5)  # warm
        return await drive(publish, seconds)
    finally:
        stopped.set()
        poller.join()
        producer.flush(5)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=4.0)
    args = parser.parse_args()
    rounds, seconds = (1, 2.0) if args.quick else (args.rounds, args.seconds)
    os.sched_setaffinity(0, {0})
    console = Console(width=max(Console().width, 110))
    broker = EmbeddedBroker(log_path=Path(tempfile.mkdtemp(prefix="bench-producers-")) / "broker.log")
    broker.start()
    assert broker.pid is not None
    subprocess.run(["taskset", "-acp", "1", str(broker.pid)], check=True, capture_output=True)
    clients: dict[str, Callable[[], Awaitable[tuple[float, float]]]] = {
        "aiokafka, EventProducer.publish (ingest's)": lambda: aiokafka_round(broker.bootstrap, seconds),
        "confluent-kafka, linger.ms=0": lambda: confluent_round(broker.bootstrap, seconds, 0),
        "confluent-kafka, linger.ms=1": lambda: confluent_round(broker.bootstrap, seconds, 1),
    }
    results: dict[str, list[tuple[float, float]]] = {name: [] for name in clients}
    try:
        uvloop.run(ensure_topics(broker.bootstrap, [TOPIC], partitions=2))
        with Progress(console=console) as progress:
            task = progress.add_task("producers", total=rounds * len(clients))
            for _ in range(rounds):
                for name, run in clients.items():
                    progress.update(task, description=name)
                    # uvloop, as uvicorn runs ingest
                    results[name].append(uvloop.run(run()))  # type: ignore[arg-type]
                    progress.advance(task)
    finally:
        broker.stop()
    table = Table(
        title=f"{WRITERS} writers awaiting acks=all, {rounds}x{seconds:g}s, median, uvloop; client on core 0"
    )
    for column in ("client", "acked msg/s", "client CPU µs/msg", "CPU x aiokafka"):
        table.add_column(column, justify="left" if column == "client" else "right")
    base = statistics.median(cpu for _, cpu in next(iter(results.values())))
    for name, runs in results.items():
        rate, cpu = statistics.median(r for r, _ in runs), statistics.median(c for _, c in runs)
        table.add_row(name, f"{rate:,.0f}", f"{cpu:.1f}", f"{cpu / base:.2f}")
    console.print(table)


if __name__ == "__main__":
    main()
