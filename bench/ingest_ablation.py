"""Where an ingest request's CPU goes: bench/ingest.py's setup with one part stubbed out at a time.

Same load as bench/ingest.py (wrk -c32 on core 1 with the broker, the server alone on core 0), one target at a
time: the real app, then without the produce round trip, without the after-ack SQLite batch, without
the request-metrics middleware, without all three, and with librdkafka's producer instead of aiokafka's;
plus the framework floor (a plain Starlette route in a FastAPI app parsing the same body) and the bare
FastAPI endpoint. The differences are what each part costs.
Rounds interleaved, median.

    .venv/bin/python bench/ingest_ablation.py                  # (b) and (c), 3 rounds of 6 s
    .venv/bin/python bench/ingest_ablation.py --target signed --rounds 1
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from bench.ingest import (
    CLIENT_CORE,
    LEAD,
    SIGNED_LUA,
    STATIC_LUA,
    bench_env,
    measured_run,
    require_wrk,
    signed_file,
    start_server,
)
from shared.kafka.embedded import EmbeddedBroker
from shared.kafka.process import free_port

ABLATIONS = ["", "produce", "sqlite", "metrics", "produce,sqlite,metrics", "rdkafka"]
PATHS = {"leads": "/v1/leads", "signed": "/v1/sources/webinar/webhooks"}


def _label(ablate: str) -> str:
    if ablate == "rdkafka":
        return "with librdkafka's producer (bench/rdkafka_producer.py)"
    return f"without {ablate}" if ablate else "real app"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--target", choices=[*PATHS, "both"], default="both")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=6)
    args = parser.parse_args()
    console = Console(width=max(Console().width, 110))
    wrk = require_wrk(console)
    tmp = Path(tempfile.mkdtemp(prefix="bench-ablation-"))
    broker = EmbeddedBroker(log_path=tmp / "broker.log")
    broker.start()
    assert broker.pid is not None
    subprocess.run(["taskset", "-acp", CLIENT_CORE, str(broker.pid)], check=True, capture_output=True)
    base_env = bench_env(broker.bootstrap, tmp)
    static_lua, signed_lua = tmp / "lead.lua", tmp / "signed.lua"
    static_lua.write_text(STATIC_LUA.format(body=json.dumps(LEAD)))
    signed_lua.write_text(SIGNED_LUA)
    runs: list[tuple[str, str, str]] = []  # (label, app, target)
    for target in PATHS if args.target == "both" else [args.target]:
        runs += [(f"{target}: {_label(a)}", a, target) for a in ABLATIONS]
    runs += [
        ("floor: plain Starlette route, same parse", "floor", "leads"),
        ("bare FastAPI endpoint", "bare", "leads"),
    ]
    cpu: dict[str, list[float]] = {label: [] for label, _, _ in runs}
    try:
        with Progress(console=console) as progress:
            task = progress.add_task("ablation", total=args.rounds * len(runs))
            for _ in range(args.rounds):
                for label, ablate, target in runs:
                    progress.update(task, description=label)
                    app = {
                        "floor": "bench.serve_floor:create_app",
                        "bare": "bench.serve_baseline:create_app",
                    }.get(ablate, "bench.serve_ingest_ablated:create_app")
                    port = free_port()
                    server = start_server(label, app, port, {**base_env, "BENCH_ABLATE": ablate}, tmp)
                    url = f"http://127.0.0.1:{port}{PATHS[target]}"
                    lua, lua_args = static_lua, []
                    if target == "signed":
                        lua, lua_args = signed_lua, [str(signed_file(tmp, args.seconds * 6000, url))]
                    _, cpu_ms = measured_run(server, wrk, url, lua, lua_args, args.seconds, 32)
                    cpu[label].append(cpu_ms)
                    progress.advance(task)
    finally:
        broker.stop()
    table = Table(
        title=f"server CPU per request, {args.rounds}x{args.seconds}s, median (load as bench/ingest.py)"
    )
    for column in ("run", "CPU ms/req", "vs the real app"):
        table.add_column(column, justify="left" if column == "run" else "right")
    real: dict[str, float] = {}
    for label, ablate, target in runs:
        value = statistics.median(cpu[label])
        if ablate == "" and target in PATHS:
            real[target] = value
        delta = value - real[target] if ablate not in ("", "floor", "bare") else None
        table.add_row(label, f"{value:.3f}", "" if delta is None else f"{delta:+.3f}")
    console.print(table)


if __name__ == "__main__":
    main()
