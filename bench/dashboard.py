"""The ops dashboard with 100k leads in the store (issue 13, item 1: "stays fast with 100k leads").

Loads the metrics store, starts the metrics service (embedded broker, one uvicorn worker pinned to
core 0), then drives every request the dashboard page makes with `wrk` pinned to core 1: the page
itself, its static files, and each JSON endpoint `static/dashboard.js` polls (board every 2 s,
charts every 5 s for the chosen cohort, the lead picker every 15 s, a lead's timeline on click).
P50/P99 latency, req/s and the server's CPU time per request (from /proc).

    .venv/bin/python bench/dashboard.py                                 # SQLite (the `leadrelay up` default)
    .venv/bin/python bench/dashboard.py --postgres postgresql+asyncpg://user:pw@host:5432/postgres
    .venv/bin/python bench/dashboard.py --quick                         # 20k leads, 3 s per endpoint

The store: `--seed-leads` synthetic leads (services/metrics/synthetic.py: a year of sources, reps,
values, SLA outcomes, late events) go through the metrics projector with its live tables (facts,
fold, contacts, SLA clocks), then every per-lead table is copied under new ids up to `--leads`
(same distributions). 2,000 of the SLA clocks are set running (open, warned, breached, due at
spread times) so the board has a live backlog to rank; the rest are closed, as in a real year.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import asyncpg  # type: ignore[import-untyped]
from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from sqlalchemy import Table as SqlTable
from sqlalchemy import func, select, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bench.ingest import require_wrk, run_wrk
from bench.procs import cpu_seconds
from services.devstack import ServiceProcess, start_service, wait_ready
from services.devstack.processes import service_env
from services.metrics.handlers import projector
from services.metrics.synthetic import history
from services.metrics.tables import contacts, events, lead_stages, leads, sla_clocks, transitions
from shared.db import create_engine, create_session_factory
from shared.db.migrate import migrate_service
from shared.dispatch import decode
from shared.kafka.embedded import EmbeddedBroker
from shared.logging import configure_logging

SERVER_CORE, CLIENT_CORE = "0", "1"
API_KEY = "bench-dashboard-key"
RUNNING_CLOCKS = 2_000
SLOW_MS = 300.0  # the P99 a dashboard request must stay under
GET_LUA = """wrk.method = "GET"
wrk.headers["X-API-Key"] = "{key}"
wrk.headers["Accept"] = "{accept}"
"""
# Per table: the columns that carry an id to make unique in each copy (the rest are copied as is).
COPIED: tuple[tuple[SqlTable, tuple[str, ...]], ...] = (
    (leads, ("lead_id",)),
    (lead_stages, ("lead_id",)),
    (events, ("event_id", "lead_id")),
    (transitions, ("event_id", "lead_id")),
    (contacts, ("lead_id",)),
    (sla_clocks, ("clock_id", "lead_id")),
)


@dataclass
class Endpoint:
    label: str
    path: str
    polled: str
    accept: str = "application/json"
    rps: list[float] = field(default_factory=list)
    p50: list[float] = field(default_factory=list)
    p99: list[float] = field(default_factory=list)
    cpu_ms: list[float] = field(default_factory=list)
    non2xx: int = 0


def endpoints(lead_id: str) -> list[Endpoint]:
    """What the page asks for, as static/dashboard.js does (cohort "all": the page's default)."""
    return [
        Endpoint("GET / (page, board rendered in)", "/", "on load", accept="text/html"),
        Endpoint("/static/dashboard.js", "/static/dashboard.js", "on load", accept="*/*"),
        Endpoint("/static/chart.umd.min.js", "/static/chart.umd.min.js", "on load", accept="*/*"),
        Endpoint("/v1/dashboard/board", "/v1/dashboard/board", "every 2 s"),
        Endpoint("/v1/funnel?period=all", "/v1/funnel?period=all", "every 5 s"),
        Endpoint("/v1/response-times?period=all", "/v1/response-times?period=all", "every 5 s"),
        Endpoint("/v1/dashboard/reps?period=all", "/v1/dashboard/reps?period=all", "every 5 s"),
        Endpoint("/v1/funnel?period=all&source=webinar", "/v1/funnel?period=all&source=webinar", "on filter"),
        Endpoint(
            "/v1/response-times?period=all&source=webinar",
            "/v1/response-times?period=all&source=webinar",
            "on filter",
        ),
        Endpoint("/v1/funnel?by=source (source picker)", "/v1/funnel?by=source", "on load"),
        Endpoint("/v1/dashboard/leads?limit=25", "/v1/dashboard/leads?limit=25", "every 15 s"),
        Endpoint("/v1/dashboard/leads/{id} (timeline)", f"/v1/dashboard/leads/{lead_id}", "on click"),
    ]


async def _project(sessions: async_sessionmaker[AsyncSession], seed_leads: int, progress: Progress) -> None:
    """The seed leads through the live projector: facts, fold, contacts and SLA clocks."""
    stories = history(seed_leads, seed=13)
    decoded = [d for story in stories for e in story if (d := decode(e.cloud_event().to_bytes()))]
    project = projector(sessions)
    task = progress.add_task(f"project {seed_leads:,} leads ({len(decoded):,} events)", total=len(decoded))
    for start in range(0, len(decoded), 2000):
        await project.project_many(decoded[start : start + 2000])
        progress.update(task, completed=min(start + 2000, len(decoded)))


async def _grow(sessions: async_sessionmaker[AsyncSession], copies: int, progress: Progress) -> None:
    """Copy every per-lead row under new ids (`<id>.c<n>`: no generated id has a dot), `copies - 1` times."""
    task = progress.add_task(f"grow x{copies}", total=(copies - 1) * len(COPIED))
    for n in range(1, copies):
        async with sessions() as s, s.begin():
            for table, ids in COPIED:
                names = [c.name for c in table.columns if not (c.primary_key and c.autoincrement is True)]
                values = [(table.c[c] + f".c{n}") if c in ids else table.c[c] for c in names]
                source = select(*values).where(table.c[ids[0]].not_like("%.c%"))
                await s.execute(table.insert().from_select(names, source))
                progress.advance(task)


async def _running_clocks(sessions: async_sessionmaker[AsyncSession]) -> None:
    """Some clocks running now, due at spread times (a live backlog), the rest closed as generated."""
    now = datetime.now(UTC)
    async with sessions() as s, s.begin():
        ids = list(
            (
                await s.execute(
                    select(sla_clocks.c.clock_id).order_by(sla_clocks.c.clock_id).limit(RUNNING_CLOCKS)
                )
            )
            .scalars()
            .all()
        )
        for i, clock_id in enumerate(ids):
            status = ("open", "open", "warned", "breached")[i % 4]
            breach_at = now + timedelta(minutes=(i % 240) - (60 if status == "breached" else -1))
            await s.execute(
                update(sla_clocks)
                .where(sla_clocks.c.clock_id == clock_id)
                .values(status=status, breach_at=breach_at, closed_at=None, escalations=i % 3)
            )


async def load_store(url: str, seed_leads: int, total_leads: int, console: Console) -> str:
    """Migrate, project, grow; returns a lead id for the timeline request."""
    engine = create_engine(url)
    try:
        await migrate_service(engine, "metrics")
        sessions = create_session_factory(engine)
        with Progress(console=console) as progress:
            await _project(sessions, seed_leads, progress)
            await _grow(sessions, max(1, total_leads // seed_leads), progress)
        await _running_clocks(sessions)
        async with engine.connect() as conn:
            auto = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await auto.execute(text("VACUUM ANALYZE" if engine.dialect.name == "postgresql" else "ANALYZE"))
        async with sessions() as s:
            count = (await s.execute(select(func.count()).select_from(leads))).scalar_one()
            lead_id = (
                await s.execute(select(events.c.lead_id).order_by(events.c.lead_id).limit(1))
            ).scalar_one()
        console.print(f"store: {count:,} leads in metrics_leads ({engine.dialect.name})")
        return str(lead_id)
    finally:
        await engine.dispose()


def start_metrics(url: str, bootstrap: str, tmp: Path) -> ServiceProcess:
    env = service_env(bootstrap, url, f"bench{uuid.uuid4().hex[:6]}.", api_key="unused")
    env |= {"LEADRELAY_METRICS_API_KEY": API_KEY, "LEADRELAY_LOG_LEVEL": "WARNING", "LEADRELAY_ENV": "dev"}
    argv = ["taskset", "-c", SERVER_CORE, sys.executable, "-m", "services", "metrics"]
    server = start_service("metrics", env, tmp, argv=argv)
    try:
        wait_ready([server], timeout_s=60)
    except RuntimeError as exc:
        server.child.stop(5)
        raise SystemExit(f"the metrics service did not get ready: {exc}") from None
    return server


def measure(
    server: ServiceProcess,
    targets: list[Endpoint],
    wrk: str,
    tmp: Path,
    args: argparse.Namespace,
    progress: Progress,
) -> None:
    assert server.pid is not None
    task = progress.add_task("wrk", total=args.rounds * len(targets))
    for _ in range(args.rounds):
        for target in targets:
            progress.update(task, description=f"wrk {target.label}")
            lua = tmp / f"get-{target.accept.replace('/', '_').replace('*', 'any')}.lua"
            lua.write_text(GET_LUA.format(key=API_KEY, accept=target.accept))
            before = cpu_seconds(server.pid)
            result = run_wrk(wrk, f"{server.url}{target.path}", lua, args.seconds, args.connections, [])
            used = cpu_seconds(server.pid) - before
            target.rps.append(result["rps"])
            target.p50.append(result.get("50%", 0.0))
            target.p99.append(result.get("99%", 0.0))
            target.cpu_ms.append(used * 1000 / max(result.get("requests", 1.0), 1.0))
            target.non2xx += int(result.get("non2xx", 0))
            progress.advance(task)


def report(console: Console, targets: list[Endpoint], title: str) -> None:
    table = Table(
        "request", "polled", "req/s", "P50 ms", "P99 ms", "server CPU ms/req", "non-2xx", title=title
    )
    lines = ["| request | polled | req/s | P50 / P99 ms | server CPU ms/req |", "|---|---|---:|---:|---:|"]
    for t in targets:
        rps, p50, p99 = statistics.median(t.rps), statistics.median(t.p50), statistics.median(t.p99)
        cpu = statistics.median(t.cpu_ms)
        flag = " (slow)" if p99 > SLOW_MS else ""
        table.add_row(
            t.label, t.polled, f"{rps:,.0f}", f"{p50:,.1f}", f"{p99:,.1f}{flag}", f"{cpu:.2f}", str(t.non2xx)
        )
        lines.append(f"| `{t.label}` | {t.polled} | {rps:,.0f} | {p50:,.1f} / {p99:,.1f}{flag} | {cpu:.2f} |")
    console.print(table)
    print("\n".join(lines))


async def _postgres_database(url: str) -> tuple[str, str]:
    name = f"leadrelay_dash_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(
        make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    )
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    return name, make_url(url).set(drivername="postgresql+asyncpg", database=name).render_as_string(False)


async def _drop(url: str, name: str) -> None:
    admin = await asyncpg.connect(
        make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    )
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--postgres", help="a PostgreSQL URL the bench may create a database on (default: SQLite)"
    )
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--seed-leads", type=int, default=10_000)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--connections", type=int, default=1, help="wrk connections (1: one user)")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.leads, args.seed_leads, args.seconds = 20_000, 2_000, 3
    configure_logging("WARNING", "console")
    console = Console(width=max(Console().width, 140))
    wrk = require_wrk(console)
    tmp = Path(tempfile.mkdtemp(prefix="bench-dashboard-"))
    database = None
    if args.postgres:
        database, url = asyncio.run(_postgres_database(args.postgres))
    else:
        url = f"sqlite+aiosqlite:///{tmp / 'metrics.db'}"
    broker = EmbeddedBroker(log_path=tmp / "broker.log")
    try:
        lead_id = asyncio.run(load_store(url, args.seed_leads, args.leads, console))
        broker.start()
        assert broker.pid is not None
        subprocess.run(["taskset", "-acp", CLIENT_CORE, str(broker.pid)], check=True, capture_output=True)
        server = start_metrics(url, broker.bootstrap, tmp)
        targets = endpoints(lead_id)
        try:
            with Progress(console=console) as progress:
                measure(server, targets, wrk, tmp, args, progress)
        finally:
            server.child.stop(20)
        load = os.getloadavg()
        title = (
            f"dashboard, {args.leads:,} leads ({'PostgreSQL' if args.postgres else 'SQLite'}), wrk -t1 "
            f"-c{args.connections} {args.rounds}x{args.seconds}s per request; server on core {SERVER_CORE}, "
            f"wrk + broker on core {CLIENT_CORE}; load average {load[0]:.2f}"
        )
        report(console, targets, title)
    finally:
        broker.stop()
        if database and args.postgres:
            asyncio.run(_drop(args.postgres, database))
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
