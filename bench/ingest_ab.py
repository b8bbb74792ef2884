"""A/B of two commits of ingest, side by side: the same load as bench/ingest.py, alternating.

A change's effect on ingest is often smaller than how far this machine's speed drifts between two
runs of bench/ingest.py minutes apart. Here the base commit runs from a git worktree and the
working tree beside it, round after round, each against the same broker and each on a database
of its own (their migrations may differ), with the bare FastAPI endpoint measured in every round
too; ratios are paired per round.

    .venv/bin/python bench/ingest_ab.py --base HEAD~1                  # (c), 4 rounds of 8 s
    .venv/bin/python bench/ingest_ab.py --base 42618fa --target leads --rounds 6
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
    ROOT,
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

PATHS = {"leads": "/v1/leads", "signed": "/v1/sources/webinar/webhooks"}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--base", required=True, help="the commit to compare the working tree with")
    parser.add_argument("--target", choices=list(PATHS), default="signed")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--seconds", type=int, default=8)
    args = parser.parse_args()
    console = Console(width=max(Console().width, 120))
    wrk = require_wrk(console)
    tmp = Path(tempfile.mkdtemp(prefix="bench-ab-"))
    base_tree = tmp / "base"
    subprocess.run(
        ["git", "-C", str(ROOT), "worktree", "add", "-q", "--detach", str(base_tree), args.base], check=True
    )
    broker = EmbeddedBroker(log_path=tmp / "broker.log")
    broker.start()
    assert broker.pid is not None
    subprocess.run(["taskset", "-acp", CLIENT_CORE, str(broker.pid)], check=True, capture_output=True)
    static_lua, signed_lua = tmp / "lead.lua", tmp / "signed.lua"
    static_lua.write_text(STATIC_LUA.format(body=json.dumps(LEAD)))
    signed_lua.write_text(SIGNED_LUA)
    runs = [
        ("bare", ROOT, "bench.serve_baseline:create_app", "leads"),
        (f"base {args.base}", base_tree, "bench.serve_ingest:create_app", args.target),
        ("working tree", ROOT, "bench.serve_ingest:create_app", args.target),
    ]
    rps: dict[str, list[float]] = {label: [] for label, *_ in runs}
    cpu: dict[str, list[float]] = {label: [] for label, *_ in runs}
    try:
        with Progress(console=console) as progress:
            task = progress.add_task("a/b", total=args.rounds * len(runs))
            for n in range(args.rounds):
                order = runs if n % 2 == 0 else [runs[0], runs[2], runs[1]]  # neither always goes first
                for i, (label, tree, app, target) in enumerate(order):
                    progress.update(task, description=label)
                    env = bench_env(broker.bootstrap, tmp)
                    env["BENCH_DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp / f'ingest-{n}-{i}.db'}"
                    port = free_port()
                    server = start_server(f"ab{n}{i}", app, port, env, tmp, tree)
                    url = f"http://127.0.0.1:{port}{PATHS[target]}"
                    lua, lua_args = static_lua, []
                    if target == "signed":
                        lua, lua_args = signed_lua, [str(signed_file(tmp, args.seconds * 6000, url))]
                    result, cpu_ms = measured_run(server, wrk, url, lua, lua_args, args.seconds, 32)
                    rps[label].append(result["rps"])
                    cpu[label].append(cpu_ms)
                    progress.advance(task)
    finally:
        broker.stop()
        subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(base_tree)], check=False)
    table = Table(
        title=f"{args.target}, wrk -c32, {args.rounds}x{args.seconds}s, paired by round (bare in each)"
    )
    for column in ("run", "x bare by round", "mean x bare", "CPU ms/req by round", "median CPU ms/req"):
        table.add_column(column, justify="left" if column == "run" else "right")
    bare = rps["bare"]
    for label, *_ in runs:
        ratios = [r / b for r, b in zip(rps[label], bare, strict=True)]
        table.add_row(
            label,
            " ".join(f"{r:.2f}" for r in ratios),
            f"{statistics.mean(ratios):.2f}",
            " ".join(f"{c:.3f}" for c in cpu[label]),
            f"{statistics.median(cpu[label]):.3f}",
        )
    console.print(table)


if __name__ == "__main__":
    main()
