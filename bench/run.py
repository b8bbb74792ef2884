"""`make bench`: ingest throughput vs a bare FastAPI baseline, end-to-end handoff latency and the
router's leads/s, on each broker: the embedded one, and Apache Kafka where Java and its jars are here.

    .venv/bin/python bench/run.py                    # full run (several minutes on 2 cores)
    .venv/bin/python bench/run.py --quick            # smoke run, small counts
    .venv/bin/python bench/run.py --brokers embedded # one broker only

Results: a table on the terminal, bench/results/latest.json and (per lead) bench/results/e2e-series.csv;
server logs in bench/results/logs/.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import signal
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

if __package__ in (None, ""):  # run as a script: make the repository importable (bench, services, shared)
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import uvloop
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from bench import report
from bench.latency import LatencyConfig, LatencyResult, run_latency
from bench.router_rate import RouterRateConfig, RouterRateResult, run_router_rate
from bench.throughput import TargetResult, ThroughputConfig, run_throughput
from shared.kafka.brokers import BROKER_KINDS, BrokerKind
from shared.kafka.jars import KafkaRuntimeMissing, java_binary, require_jars
from shared.logging import configure_logging

RESULTS = Path(__file__).resolve().parent / "results"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="smoke run: small counts, one round")
    parser.add_argument("--requests", type=int, help="measured requests per throughput round (3000)")
    parser.add_argument("--warmup", type=int, help="warm-up requests before each round (200)")
    parser.add_argument("--concurrency", type=int, default=32, help="requests in flight (32)")
    parser.add_argument("--rounds", type=int, help="rounds per app, interleaved (3)")
    parser.add_argument("--leads", type=int, help="leads per end-to-end load (1000)")
    parser.add_argument("--rates", help="end-to-end loads in leads/s, comma-separated (50,100)")
    parser.add_argument("--no-idempotency", action="store_true", help="skip the Idempotency-Key variant")
    parser.add_argument("--skip-throughput", action="store_true")
    parser.add_argument("--skip-latency", action="store_true")
    parser.add_argument("--skip-router", action="store_true", help="skip the router leads/s burst")
    parser.add_argument("--router-leads", type=int, help="leads in the router burst (2000)")
    parser.add_argument(
        "--brokers", help="comma-separated: embedded,kafka (default: both where Java and the jars are here)"
    )
    parser.add_argument("--strict", action="store_true", help="also exit 1 when the ratio is below target")
    parser.add_argument("--output", type=Path, default=RESULTS / "latest.json")
    return parser.parse_args(argv)


def configs(args: argparse.Namespace) -> tuple[ThroughputConfig, LatencyConfig]:
    quick = args.quick
    throughput = ThroughputConfig(
        requests=args.requests or (300 if quick else 3000),
        warmup=args.warmup if args.warmup is not None else (50 if quick else 200),
        concurrency=args.concurrency,
        rounds=args.rounds or (1 if quick else 3),
        idempotency=not args.no_idempotency,
    )
    rates = (
        tuple(float(r) for r in args.rates.split(",")) if args.rates else (50.0,) if quick else (50.0, 100.0)
    )
    latency = LatencyConfig(
        leads=args.leads or (100 if quick else 1000), rates=rates, warmup=5 if quick else 20
    )
    return throughput, latency


def brokers(args: argparse.Namespace) -> tuple[list[BrokerKind], str | None]:
    """The brokers to measure, and why Apache Kafka is left out when it is."""
    if args.brokers:
        wanted = [b.strip() for b in args.brokers.split(",") if b.strip()]
        unknown = set(wanted) - set(BROKER_KINDS)
        if unknown:
            raise SystemExit(f"unknown broker(s) {sorted(unknown)}; use {', '.join(BROKER_KINDS)}")
        return [b for b in BROKER_KINDS if b in wanted], None
    try:
        java_binary()
        require_jars()
    except KafkaRuntimeMissing as exc:
        return ["embedded"], f"Apache Kafka left out: {exc}"
    return ["embedded", "kafka"], None


def write_series(path: Path, results: list[LatencyResult]) -> None:
    """Per-lead end-to-end figures, to look for stalls over time (not just percentiles)."""
    lines = ["broker,rate,sent_s,latency_ms,webhook_to_decided_ms,decided_to_produced_ms,produced_to_read_ms"]
    for r in results:
        lines += [f"{r.broker},{r.rate_target:g}," + ",".join(f"{v:.1f}" for v in row) for row in r.series]
    path.write_text("\n".join(lines) + "\n")


def _terminate(signum: int, _: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")  # unwinds through every cleanup (processes, broker)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    tcfg, lcfg = configs(args)
    rcfg = RouterRateConfig(leads=args.router_leads or (300 if args.quick else 2000))
    kinds, left_out = brokers(args)
    configure_logging("WARNING", "console")  # the bench's own Kafka clients: warnings only
    console = Console()
    if not console.is_terminal:
        console = Console(width=130)  # piped to a file or CI: keep the tables readable
    signal.signal(signal.SIGTERM, _terminate)
    log_dir = RESULTS / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    for old in log_dir.glob("**/*.log"):
        old.unlink()
    started = time.monotonic()
    throughput: list[TargetResult] = []
    latency: list[LatencyResult] = []
    latency_info: dict[str, Any] = {}
    router: list[RouterRateResult] = []
    if left_out:
        console.print(f"[yellow]note:[/] {left_out}")
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    try:
        with (
            asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner,
            Progress(*columns, console=console, refresh_per_second=4) as ui,
        ):
            if not args.skip_throughput:
                throughput = run_throughput(tcfg, runner, ui, log_dir)
            for kind in kinds:  # one broker at a time: the machine's cores are the measurement's
                if not args.skip_latency:
                    results, info = run_latency(lcfg, runner, ui, log_dir, kind)
                    latency += results
                    latency_info[kind] = info
                if not args.skip_router:
                    router.append(run_router_rate(rcfg, runner, ui, log_dir, kind))
    except KeyboardInterrupt:
        console.print("[yellow]interrupted: every process this run started has been stopped[/]")
        return 130
    elapsed = time.monotonic() - started

    if throughput:
        console.print(report.throughput_table(throughput, tcfg.concurrency, os.cpu_count()))
        if note := report.generator_note(throughput):
            console.print(f"[yellow]note:[/] {note}")
    if latency:
        console.print(report.latency_table(latency, lcfg.leads))
    if latency or router:
        console.print(report.brokers_table(latency, router, lcfg.leads))
    found = report.failures(throughput, latency, lcfg.leads, router)
    if any(i.get("duplicate_handoffs") or i.get("unreadable") for i in latency_info.values()):
        console.print(f"[yellow]note:[/] handoff watcher: {latency_info}")
    ratio, paired = report.throughput_ratio(throughput) if throughput else (float("nan"), [])
    document = {
        "generated_at": datetime.now(UTC).isoformat(),
        "command": " ".join([Path(sys.executable).name, "bench/run.py", *(argv or sys.argv[1:])]),
        "elapsed_s": round(elapsed, 1),
        "machine": {"cpu_count": os.cpu_count(), "platform": platform.platform(), "python": sys.version},
        "config": {
            "throughput": vars(tcfg),
            "latency": {**vars(lcfg), "rates": list(lcfg.rates)},
            "router_rate": vars(rcfg),
            "brokers": kinds,
            "brokers_left_out": left_out,
        },
        "throughput": {
            "apps": {t.name: t.to_json() for t in throughput},
            "ratio_ingest_to_baseline": ratio,
            "paired_round_ratios": paired,
            "target": report.RATIO_TARGET,
            "meets_target": ratio >= report.RATIO_TARGET,
            "note": "load generator on the same machine as the servers; both apps measured the same way",
        },
        "latency": {"loads": [r.to_json() for r in latency], "watcher": latency_info},
        "router_rate": [r.to_json() for r in router],
        "failures": found,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(document, indent=2, default=str) + "\n")
    write_series(args.output.with_name("e2e-series.csv"), latency)
    console.print(f"[dim]{elapsed:.0f}s; results in {args.output}, logs in {log_dir}[/]")
    report.print_failures(console, found)
    if found:
        return 1
    if args.strict and throughput and not ratio >= report.RATIO_TARGET:
        console.print(f"[bold red]FAIL[/] ingest/baseline {ratio:.2f} is below {report.RATIO_TARGET}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
