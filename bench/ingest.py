"""Ingest throughput, server-bound, side by side in one run (issue 5, item 8):

  (a) bare   a bare FastAPI endpoint that parses the same body (bench/serve_baseline.py);
  (b) leads  POST /v1/leads with the durable ack (202 only after the broker's acks=all);
  (c) signed POST /v1/sources/webinar/webhooks: a Standard Webhooks delivery, signature checked,
             payload mapped, deduplicated on its webhook-id, durable ack.

The load generator must not be the bottleneck: `wrk` (C) on core 1 with the broker, each server
alone on core 0 (`taskset`), the same worker count. Rounds are interleaved (a b c a b c ...) and
the median is reported, with the server's CPU time per request read from /proc.

    .venv/bin/python bench/ingest.py             # 3 rounds of 10 s
    .venv/bin/python bench/ingest.py --quick     # 1 round of 4 s
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import yaml
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from services.devstack import ServiceProcess, start_service, wait_ready
from services.ingest.sources.samples import load_sample, signed_request
from services.ingest.webhooks.sources import dev_secret
from shared.kafka.embedded import EmbeddedBroker
from shared.kafka.process import free_port

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
SERVER_CORE, CLIENT_CORE = "0", "1"
LEAD = {
    "email": "ada.novak@northwind.example",
    "first_name": "Ada",
    "last_name": "Novak",
    "company": "Northwind",
    "title": "VP Operations",
    "employees": 120,
    "country": "US",
    "utm": {"source": "google", "campaign": "q4"},
}
STATIC_LUA = """wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-API-Key"] = "bench-key"
wrk.body = [[{body}]]
"""
# Pre-signed deliveries, one per line (id, timestamp, signature, body), cycled: each is new to
# the dedupe ledger until the file wraps (sized so it does not within a round).
SIGNED_LUA = """local reqs = {}
init = function(args)
  for line in io.lines(args[1]) do
    local id, ts, sig, body = line:match("([^\\t]*)\\t([^\\t]*)\\t([^\\t]*)\\t(.*)")
    reqs[#reqs + 1] = wrk.format("POST", nil, {["Content-Type"] = "application/json",
      ["webhook-id"] = id, ["webhook-timestamp"] = ts, ["webhook-signature"] = sig}, body)
  end
end
local i = 0
request = function()
  i = i % #reqs + 1
  return reqs[i]
end
"""


@dataclass
class Target:
    name: str
    label: str
    app: str
    path: str
    rps: list[float] = field(default_factory=list)
    p50_ms: list[float] = field(default_factory=list)
    p99_ms: list[float] = field(default_factory=list)
    cpu_ms: list[float] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)


def require_wrk(console: Console) -> str:
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        console.print("installing wrk (Debian package)…")
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", "wrk"],
            check=True,
            env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
        )
        found = shutil.which("wrk")
    if not found:
        raise SystemExit("wrk is missing: install it (sudo apt-get install wrk) and run again")
    return found


def bench_config(tmp: Path) -> Path:
    """The example config with the webinar source's rate limit out of the way (it is not measured)."""
    config = yaml.safe_load((ROOT / "examples" / "leadrelay.yaml").read_text())
    config["sources"]["webinar"]["rate_limit"] = {"per_second": 1_000_000, "burst": 1_000_000}
    path = tmp / "bench-config.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def bench_env(bootstrap: str, tmp: Path) -> dict[str, str]:
    """The environment bench/serve_ingest.py (and its ablated twin) read: this process's own,
    without any LEADRELAY_ setting of the caller's, pointed at the bench broker and a fresh database."""
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("LEADRELAY_")},
        "BENCH_KAFKA_BOOTSTRAP": bootstrap,
        "BENCH_DATABASE_URL": f"sqlite+aiosqlite:///{tmp / 'ingest.db'}",
        "BENCH_TOPIC_PREFIX": "bench.",
        "BENCH_API_KEY": "bench-key",
        "LEADRELAY_CONFIG": str(bench_config(tmp)),
        "LEADRELAY_LOG_LEVEL": "WARNING",
    }


def start_server(
    name: str, app: str, port: int, env: dict[str, str], log_dir: Path, tree: Path = ROOT
) -> ServiceProcess:
    """One uvicorn worker pinned to the server core, started and waited for by the dev stack.

    uvloop and httptools (both in requirements.lock) named explicitly for both apps: they are what
    uvicorn's `auto` picks, and so what `leadrelay ingest` runs on (shared/runtime.serve). `tree`
    is the checkout whose code it runs (`python -m` puts its working directory first on sys.path):
    bench/ingest_ab.py runs a base commit's worktree."""
    argv = ["taskset", "-c", SERVER_CORE, sys.executable, "-m", "uvicorn", app, "--factory"]
    argv += ["--port", str(port), "--no-access-log", "--log-level", "warning"]
    argv += ["--loop", "uvloop", "--http", "httptools"]
    server = start_service(name, env, log_dir, port=port, argv=argv, cwd=tree)
    try:
        wait_ready([server], timeout_s=30)
    except RuntimeError as exc:
        server.child.stop(5)
        raise SystemExit(f"{app} did not get ready: {exc}") from None
    return server


def signed_file(tmp: Path, count: int, url: str) -> Path:
    secret = dev_secret("standard", "webinar")
    sample = load_sample("standard")
    now = datetime.now(UTC)
    path = tmp / f"signed-{time.monotonic_ns()}.tsv"
    with path.open("w") as out:
        for n in range(count):
            payload = {
                **sample,
                "data": {**sample["data"], "email": f"p{n}.{time.monotonic_ns()}@bench.example"},
            }
            headers, body = signed_request("standard", secret, payload, now, url)
            out.write(
                f"{headers['webhook-id']}\t{headers['webhook-timestamp']}\t{headers['webhook-signature']}\t{body.decode()}\n"
            )
    return path


def measured_run(
    server: ServiceProcess, wrk: str, url: str, lua: Path, lua_args: list[str], seconds: int, connections: int
) -> tuple[dict[str, float], float]:
    """One wrk run against a started server, then the server stopped: wrk's figures and the
    server's CPU milliseconds per request (all its threads, read from /proc)."""
    assert server.pid is not None
    try:
        before = cpu_seconds(server.pid)
        result = run_wrk(wrk, url, lua, seconds, connections, lua_args)
        used = cpu_seconds(server.pid) - before
    finally:
        server.child.stop(20)
    return result, used * 1000 / max(result.get("requests", 1.0), 1.0)


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_wrk(
    wrk: str, url: str, lua: Path, seconds: int, connections: int, lua_args: list[str]
) -> dict[str, float]:
    argv = [
        "taskset",
        "-c",
        CLIENT_CORE,
        wrk,
        "-t1",
        f"-c{connections}",
        f"-d{seconds}s",
        "--latency",
        "-s",
        str(lua),
        url,
    ]
    out = subprocess.run(
        [*argv, *(["--", *lua_args] if lua_args else [])], capture_output=True, text=True, check=True
    ).stdout
    result: dict[str, float] = {}
    for line in out.splitlines():
        parts = line.split()
        if line.strip().startswith("Requests/sec:"):
            result["rps"] = float(parts[1])
        elif parts[:1] in (["50%"], ["99%"]):
            result[parts[0]] = _ms(parts[1])
        elif "requests in" in line:
            result["requests"] = float(parts[0])
        elif line.strip().startswith("Non-2xx"):
            result["non2xx"] = float(parts[-1])
    return result


def _ms(value: str) -> float:
    """wrk's latency (`800.00us`, `4.60ms`, `1.20s`) in milliseconds."""
    if value.endswith("us"):
        return float(value[:-2]) / 1000
    if value.endswith("ms"):
        return float(value[:-2])
    return float(value.rstrip("s")) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    rounds, seconds = (1, 4) if args.quick else (args.rounds, args.seconds)
    console = Console(width=max(Console().width, 140))
    wrk = require_wrk(console)
    RESULTS.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    broker = EmbeddedBroker(log_path=tmp / "broker.log")
    broker.start()
    assert broker.pid is not None
    subprocess.run(["taskset", "-acp", CLIENT_CORE, str(broker.pid)], check=True, capture_output=True)
    env = bench_env(broker.bootstrap, tmp)
    targets = [
        Target("bare", "(a) bare FastAPI", "bench.serve_baseline:create_app", "/v1/leads"),
        Target("leads", "(b) /v1/leads durable", "bench.serve_ingest:create_app", "/v1/leads"),
        Target(
            "signed",
            "(c) signed webhook + dedupe",
            "bench.serve_ingest:create_app",
            "/v1/sources/webinar/webhooks",
        ),
    ]
    static_lua = tmp / "lead.lua"
    static_lua.write_text(STATIC_LUA.format(body=json.dumps(LEAD)))
    signed_lua = tmp / "signed.lua"
    signed_lua.write_text(SIGNED_LUA)
    try:
        with Progress(console=console) as progress:
            task = progress.add_task("ingest bench", total=rounds * len(targets))
            for _ in range(rounds):
                for target in targets:
                    port = free_port()
                    progress.update(task, description=f"{target.name}: server up")
                    server = start_server(target.name, target.app, port, env, tmp)
                    url = f"http://127.0.0.1:{port}{target.path}"
                    lua, lua_args = static_lua, []
                    if target.name == "signed":
                        progress.update(task, description="signed: pre-signing deliveries")
                        lua, lua_args = signed_lua, [str(signed_file(tmp, seconds * 6000, url))]
                    progress.update(task, description=f"{target.name}: wrk {seconds}s")
                    result, cpu_ms = measured_run(server, wrk, url, lua, lua_args, seconds, args.connections)
                    target.rps.append(result["rps"])
                    target.p50_ms.append(result.get("50%", 0.0))
                    target.p99_ms.append(result.get("99%", 0.0))
                    target.cpu_ms.append(cpu_ms)
                    target.statuses["non2xx"] = target.statuses.get("non2xx", 0) + int(
                        result.get("non2xx", 0)
                    )
                    progress.advance(task)
    finally:
        broker.stop()
    report(console, targets, rounds, seconds, args.connections)


def report(console: Console, targets: list[Target], rounds: int, seconds: int, connections: int) -> None:
    base = statistics.median(targets[0].rps)
    base_cpu = statistics.median(targets[0].cpu_ms)
    table = Table(
        title=(
            f"ingest, wrk -t1 -c{connections}, {rounds}x{seconds}s, median; server on core {SERVER_CORE}, "
            f"wrk + broker on core {CLIENT_CORE}"
        )
    )
    for column in (
        "target",
        "req/s",
        "x bare",
        "x bare by round",
        "P50 ms",
        "P99 ms",
        "server CPU ms/req",
        "CPU x bare",
        "non-2xx",
    ):
        table.add_column(column, justify="left" if column == "target" else "right")
    rows = []
    for t in targets:
        rps, cpu = statistics.median(t.rps), statistics.median(t.cpu_ms)
        row = {
            "target": t.label,
            "rps": round(rps),
            "ratio": round(rps / base, 2),
            # Each round's ratio to the bare run of the same round (they ran minutes apart at most):
            # how far the machine's drift moves the figure.
            "ratio_by_round": " ".join(f"{r / b:.2f}" for r, b in zip(t.rps, targets[0].rps, strict=True)),
            "p50_ms": round(statistics.median(t.p50_ms), 2),
            "p99_ms": round(statistics.median(t.p99_ms), 2),
            "cpu_ms_per_request": round(cpu, 3),
            "cpu_ratio": round(cpu / base_cpu, 2),
            "non2xx": t.statuses.get("non2xx", 0),
        }
        rows.append(row)
        table.add_row(*(str(v) for v in row.values()))
    console.print(table)
    rounds_raw = {t.name: {"rps": t.rps, "cpu_ms": t.cpu_ms} for t in targets}
    (RESULTS / "ingest.json").write_text(
        json.dumps({"at": datetime.now(UTC).isoformat(), "rows": rows, "rounds": rounds_raw}, indent=2)
    )


if __name__ == "__main__":
    main()
