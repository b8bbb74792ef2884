"""LeadRelay's own Python per ingest request, without HTTP, broker or database (the app driven in-process).

The ablated app (bench/serve_ingest_ablated.py with `produce,sqlite`: the publish and the after-ack batch
return at once) is called as an ASGI app with a prepared scope and body, so what is timed is exactly the code
between the ASGI server and the I/O: the front door, the checks, the parse, the event, the envelope, the
answer. The bare endpoint (bench/serve_baseline.py) is driven the same way, side by side. CPU time
(`time.process_time`) over N requests after a warm-up.

    .venv/bin/python bench/ingest_inprocess.py            # 20,000 requests per target
    .venv/bin/python bench/ingest_inprocess.py --profile  # and the top of a cProfile of each
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import itertools
import json
import os
import pstats
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from bench.ingest import LEAD, bench_env
from shared.kafka.embedded import EmbeddedBroker

Request = tuple[list[tuple[bytes, bytes]], bytes]
WEBHOOK_PATH = "/v1/sources/webinar/webhooks"
_SERIAL = itertools.count()


def _scope(path: str, headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "headers": headers,
    }


def _lead_requests(count: int) -> list[Request]:
    body = json.dumps(LEAD).encode()
    headers = [(b"host", b"127.0.0.1:8000"), (b"content-type", b"application/json")]
    headers += [(b"x-api-key", b"bench-key"), (b"content-length", str(len(body)).encode())]
    return [(headers, body)] * count


def _signed_requests(count: int) -> list[Request]:
    from services.ingest.sources.samples import load_sample, signed_request
    from services.ingest.webhooks.sources import dev_secret

    sample, secret, now = load_sample("standard"), dev_secret("standard", "webinar"), datetime.now(UTC)
    out: list[Request] = []
    for n in (next(_SERIAL) for _ in range(count)):  # a new delivery each: no repeat answers 200
        payload = {**sample, "data": {**sample["data"], "email": f"p{n}@bench.example"}}
        signed, body = signed_request(
            "standard", secret, payload, now, f"http://127.0.0.1:8000{WEBHOOK_PATH}"
        )
        headers = [(b"host", b"127.0.0.1:8000"), (b"content-length", str(len(body)).encode())]
        headers += [(k.lower().encode(), v.encode()) for k, v in signed.items()]
        out.append((headers, body))
    return out


async def _drive(app: Any, path: str, requests: list[Request], expect: int) -> None:
    for headers, body in requests:
        sent: list[dict[str, Any]] = []

        async def receive(body: bytes = body) -> dict[str, Any]:
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: dict[str, Any], sent: list[dict[str, Any]] = sent) -> None:
            sent.append(message)

        await app(_scope(path, headers), receive, send)
        if sent[0]["status"] != expect:
            raise SystemExit(
                f"{path} answered {sent[0]['status']}, expected {expect}: {sent[-1].get('body')!r}"
            )


async def _measure(app: Any, path: str, make: Callable[[int], list[Request]], n: int, profile: bool) -> float:
    expect = 202  # the bare endpoint answers 202 too, as ingest does
    route = "/v1/leads" if path == "bare" else path
    async with app.router.lifespan_context(app):
        await _drive(app, route, make(2000), expect)  # warm-up: caches, first-call imports
        requests = make(n)
        started = time.process_time()
        await _drive(app, route, requests, expect)
        per_request = (time.process_time() - started) / n
        if profile:
            requests = make(n)  # prepared outside the profile: signing them is not the server's work
            profiler = cProfile.Profile()
            profiler.enable()
            await _drive(app, route, requests, expect)
            profiler.disable()
            # BENCH_SORT=cumulative, BENCH_TOP=60: another view of the same profile.
            order, top = os.environ.get("BENCH_SORT", "tottime"), int(os.environ.get("BENCH_TOP", "25"))
            pstats.Stats(profiler).sort_stats(order).print_stats(top)
    return per_request


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--only", choices=["a", "b", "c"], help="one target")
    args = parser.parse_args()
    console = Console()
    tmp = Path(tempfile.mkdtemp(prefix="bench-inprocess-"))
    broker = EmbeddedBroker(log_path=tmp / "broker.log")
    broker.start()
    # In this process: the apps read their settings when they are built below.
    os.environ.update(
        {**bench_env(broker.bootstrap, tmp), "BENCH_ABLATE": "produce,sqlite", "LEADRELAY_LOG_LEVEL": "ERROR"}
    )
    from bench.serve_baseline import create_app as create_bare
    from bench.serve_ingest_ablated import create_app as create_ablated

    runs: list[tuple[str, Any, str, Callable[[int], list[Request]]]] = [
        ("(a) bare FastAPI endpoint", create_bare, "bare", _lead_requests),
        ("(b) POST /v1/leads", create_ablated, "/v1/leads", _lead_requests),
        ("(c) signed webhook", create_ablated, WEBHOOK_PATH, _signed_requests),
    ]
    if args.only:
        runs = [r for r in runs if r[0][1] == args.only]
    results: list[tuple[str, float]] = []
    try:
        with Progress(console=console) as progress:
            task = progress.add_task("in-process", total=len(runs))
            for label, factory, path, make in runs:
                progress.update(task, description=label)
                results.append(
                    (label, asyncio.run(_measure(factory(), path, make, args.requests, args.profile)))
                )
                progress.advance(task)
    finally:
        broker.stop()
    table = Table(title=f"Python per request in-process, no I/O, {args.requests:,} requests, CPU time")
    table.add_column("target")
    table.add_column("µs per request", justify="right")
    table.add_column("x bare", justify="right")
    for label, seconds in results:
        table.add_row(label, f"{seconds * 1e6:.1f}", f"{seconds / results[0][1]:.2f}")
    console.print(table)


if __name__ == "__main__":
    main()
