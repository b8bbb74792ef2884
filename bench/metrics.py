"""Metrics reports benchmark (PostgreSQL): funnel and response-time reports over 1M leads against a
hand-written SQL GROUP BY in the same run, the import rate, and event-to-report lag at a steady load.

    LEADRELAY_BENCH_POSTGRES_URL=postgresql://user:pw@host:5432/db .venv/bin/python -m bench.metrics
    ... -m bench.metrics --quick          # 5,000 imported, grown to 100k, 3 rounds, no lag runs
    ... -m bench.metrics --leads 300000   # another size (a multiple of the imported leads)

20,000 synthetic leads go through the real import path (facts, fold, batched writes); the read
model is then grown to 1M leads by copying those rows under new ids (same distributions), since
reports read only the per-lead rows. Each report and its baseline run interleaved, median of 5.
The response-time report is compared with two baselines: the hand-written GROUP BY with extract()
(numeric since PostgreSQL 14) and the same with date_part() (double precision), the stricter one.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import asyncpg  # type: ignore[import-untyped]
from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bench.procs import cpu_seconds
from services.metrics.domain.periods import window
from services.metrics.funnel.service import funnel_report
from services.metrics.handlers import metrics_batch_handler, metrics_dispatcher
from services.metrics.replay import facts_of, project_batch
from services.metrics.reports.scope import Scope
from services.metrics.response_times.service import response_times_report
from services.metrics.synthetic import history
from shared.db import create_engine, create_session_factory
from shared.db.migrate import migrate_service
from shared.dispatch import decode
from shared.kafka import Delivery
from shared.logging import configure_logging

SEED_LEADS, LEADS, ROUNDS = 20_000, 1_000_000, 5
LAG_RATES, LAG_SECONDS = (100, 400), 10
FUNNEL_SQL = """SELECT source, count(*), count(mql_at), count(assigned_at), count(sal_at), count(sql_at),
  count(won_at), count(deal_value), sum(deal_value), count(disqualified_at), count(lost_at)
  FROM metrics_leads GROUP BY source"""
RESPONSE_SQL = """SELECT source, count(*), percentile_cont(ARRAY[0.5, 0.9, 0.99]) WITHIN GROUP
  (ORDER BY extract(epoch FROM first_touch_at - captured_at) / 60)
  FROM metrics_leads WHERE first_touch_at IS NOT NULL GROUP BY source"""
# The same, with the duration as double precision (what the report computes; extract() is numeric).
RESPONSE_SQL_FLOAT = RESPONSE_SQL.replace(
    "extract(epoch FROM first_touch_at - captured_at)", "date_part('epoch', first_touch_at - captured_at)"
)
COLUMNS = """source, captured_at, furthest_rank, updated_at, campaign, product_line, team, rep_id,
  first_touch_at, mql_at, queued_at, assigned_at, sal_at, sql_at, won_at, lost_at, disqualified_at,
  nurturing_at, rejected_at, deal_value, expected_close, sla_first_touch, speed_minutes, system_minutes,
  rep_minutes"""


@dataclass(frozen=True)
class Timing:
    wall: float  # seconds, median
    cpu: float  # seconds of the PostgreSQL backend's CPU, median; 0.0 when the server is not local


def _local_backend(pid: int) -> int | None:
    """The backend's pid when the server runs on this machine (else a pid here is someone else's)."""
    with contextlib.suppress(OSError):
        if Path(f"/proc/{pid}/comm").read_text().startswith("postgres"):
            return pid
    return None


async def _timed(call: Callable[[], Awaitable[object]], backend: int | None) -> tuple[float, float]:
    cpu, start = cpu_seconds(backend), time.perf_counter()
    await call()
    return time.perf_counter() - start, cpu_seconds(backend) - cpu


async def _compare(
    sessions: async_sessionmaker[AsyncSession],
    report: Callable[[AsyncSession], Awaitable[object]],
    sql: str,
    rounds: int,
) -> tuple[Timing, Timing]:
    """Report and baseline interleaved on one connection, serial plans for both: the backend's CPU
    time then is all the work (parallel workers' CPU would not be counted), and on a shared machine
    CPU time is the steadier figure (wall time grows with whatever else runs)."""
    ours, base = [], []
    async with sessions() as s:
        await s.execute(text("SET max_parallel_workers_per_gather = 0"))
        backend = _local_backend((await s.execute(text("SELECT pg_backend_pid()"))).scalar_one())
        for _ in range(rounds):
            ours.append(await _timed(lambda: report(s), backend))
            base.append(await _timed(lambda: s.execute(text(sql)), backend))

    def median(runs: list[tuple[float, float]]) -> Timing:
        return Timing(statistics.median(w for w, _ in runs), statistics.median(c for _, c in runs))

    return median(ours), median(base)


def _vs(ours: Timing, base: Timing) -> tuple[str, str]:
    figure = f"{ours.wall * 1000:,.0f} ms vs {base.wall * 1000:,.0f} ms"
    ratio = f"{ours.wall / base.wall:.2f}x wall"
    if ours.cpu and base.cpu:
        figure += f" (backend CPU {ours.cpu * 1000:,.0f} vs {base.cpu * 1000:,.0f} ms)"
        ratio += f", {ours.cpu / base.cpu:.2f}x CPU"
    return figure, ratio + " (goal <= 3x)"


def _lag_events(rate: int) -> list[bytes]:
    return [story[0].cloud_event().to_bytes() for story in history(rate * LAG_SECONDS, seed=rate)]


async def _lag_one_by_one(sessions: async_sessionmaker[AsyncSession], rate: int) -> list[float]:
    """Seconds from an event's arrival to its lead being in the reports, one transaction per event."""
    handler = metrics_dispatcher(sessions)
    lags, start = [], time.perf_counter()
    for n, raw in enumerate(_lag_events(rate)):
        due = start + n / rate
        if (pause := due - time.perf_counter()) > 0:
            await asyncio.sleep(pause)
        decoded = decode(raw)
        assert decoded is not None
        await handler.dispatch(*decoded)
        lags.append(time.perf_counter() - due)
    return lags


async def _lag_batched(sessions: async_sessionmaker[AsyncSession], rate: int) -> list[float]:
    """The same arrivals queue up as on a partition; the consumer takes what has arrived (up to
    200, one poll) and projects it in one transaction, as the live consumer's batch handler does."""
    handle, one = metrics_batch_handler(sessions), metrics_dispatcher(sessions)
    events = _lag_events(rate)
    arrived: asyncio.Queue[tuple[float, Delivery]] = asyncio.Queue()
    start = time.perf_counter()

    async def arrive() -> None:
        for n, raw in enumerate(events):
            due = start + n / rate
            if (pause := due - time.perf_counter()) > 0:
                await asyncio.sleep(pause)
            arrived.put_nowait((due, Delivery("lead-events", 0, n, None, raw)))

    feeder, lags = asyncio.create_task(arrive()), list[float]()
    while len(lags) < len(events):
        poll = [await arrived.get()]
        while not arrived.empty() and len(poll) < 200:
            poll.append(arrived.get_nowait())
        if len(poll) > 1:  # as the consumer loop: a lone record goes through the one-event path
            await handle([d for _, d in poll])
        else:
            decoded = decode(poll[0][1].value)
            assert decoded is not None
            await one.dispatch(*decoded)
        done = time.perf_counter()
        lags += [done - due for due, _ in poll]
    await feeder
    return lags


async def _settle(engine: AsyncEngine) -> None:
    """After the 1M-row insert: vacuum and checkpoint now, not in the middle of a lag run."""
    async with engine.connect() as conn:
        auto = await conn.execution_options(isolation_level="AUTOCOMMIT")
        await auto.execute(text("VACUUM ANALYZE"))
        with contextlib.suppress(DBAPIError):  # CHECKPOINT needs a superuser (or pg_checkpoint)
            await auto.execute(text("CHECKPOINT"))


def _quantiles(lags: list[float]) -> str:
    q = statistics.quantiles(sorted(lags), n=100, method="inclusive")
    return f"P50 {q[49] * 1000:,.1f} ms, P99 {q[98] * 1000:,.1f} ms"


async def run(
    url: str, console: Console, seed_leads: int, leads: int, rounds: int, lag: bool
) -> list[tuple[str, str, str]]:
    name = f"leadrelay_bench_{uuid.uuid4().hex[:8]}"
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    admin = await asyncpg.connect(dsn)
    await admin.execute(f'CREATE DATABASE "{name}"')
    engine = create_engine(
        make_url(url).set(drivername="postgresql+asyncpg", database=name).render_as_string(False)
    )
    try:
        await migrate_service(engine, "metrics")
        sessions = create_session_factory(engine)
        rows: list[tuple[str, str, str]] = []
        with Progress(console=console) as progress:
            task = progress.add_task(f"import {seed_leads:,} leads", total=seed_leads)
            stories = history(seed_leads, seed=3)
            decoded = [d for st in stories for e in st if (d := decode(e.cloud_event().to_bytes()))]
            facts = facts_of(decoded)
            started = time.perf_counter()
            for i in range(0, len(facts), 2000):
                await project_batch(sessions, facts[i : i + 2000])
                progress.update(task, completed=seed_leads * min(i + 2000, len(facts)) // len(facts))
            took = time.perf_counter() - started
            rows.append(
                (
                    "import (facts through the projection, batches of 2,000)",
                    f"{len(facts) / took:,.0f} events/s",
                    f"{seed_leads / took:,.0f} leads/s",
                )
            )
            task = progress.add_task(f"grow to {leads:,} leads", total=1)
            copies = max(1, leads // seed_leads)
            async with sessions() as s, s.begin():
                await s.execute(
                    text(
                        f"INSERT INTO metrics_leads (lead_id, {COLUMNS}) "
                        f"SELECT lead_id || '-' || g, {COLUMNS} "
                        f"FROM metrics_leads CROSS JOIN generate_series(1, {copies - 1}) g"
                    )
                )
            async with sessions() as s:
                await s.execute(text("ANALYZE metrics_leads"))
                total = (await s.execute(text("SELECT count(*) FROM metrics_leads"))).scalar_one()
            progress.update(task, completed=1)
            everyone = Scope(window("all", "UTC", now=datetime.now(UTC)), {}, "source")
            task = progress.add_task("reports vs GROUP BY", total=2)
            await _settle(engine)
            ours, base = await _compare(sessions, lambda s: funnel_report(s, everyone), FUNNEL_SQL, rounds)
            rows.append((f"GET /v1/funnel?by=source over {total:,} leads", *_vs(ours, base)))
            progress.advance(task)
            for sql, baseline in ((RESPONSE_SQL, "extract()"), (RESPONSE_SQL_FLOAT, "date_part()")):
                ours, base = await _compare(
                    sessions, lambda s: response_times_report(s, everyone), sql, rounds
                )
                what = f"GET /v1/response-times?by=source over {total:,} leads (baseline: {baseline})"
                rows.append((what, *_vs(ours, base)))
            progress.advance(task)
            task = progress.add_task("event-to-report lag", total=2 * len(LAG_RATES) if lag else 0)
            for rate in LAG_RATES if lag else ():
                what = f"event -> in the reports, {rate} events/s for {LAG_SECONDS} s"
                note = "one transaction per poll (the live consumer's batch handler)"
                rows.append((what, _quantiles(await _lag_batched(sessions, rate)), note))
                progress.advance(task)
                note = "one transaction per event (before), for comparison"
                rows.append((what, _quantiles(await _lag_one_by_one(sessions, rate)), note))
                progress.advance(task)
        return rows
    finally:
        await engine.dispose()
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def main() -> None:
    configure_logging("WARNING", "console")  # the projection's debug lines are not the figures
    console = Console()
    url = os.environ.get("LEADRELAY_BENCH_POSTGRES_URL") or os.environ.get("LEADRELAY_TEST_POSTGRES_URL")
    if not url:
        raise SystemExit(
            "set LEADRELAY_BENCH_POSTGRES_URL to a PostgreSQL server the bench may create databases on"
        )
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--leads", type=int, default=LEADS, help="leads in the read model (default 1M)")
    parser.add_argument("--seed-leads", type=int, default=SEED_LEADS, help="leads through the import path")
    parser.add_argument("--rounds", type=int, default=ROUNDS, help="interleaved rounds per report (median)")
    parser.add_argument("--quick", action="store_true", help="5k imported, 100k leads, 3 rounds, no lag")
    args = parser.parse_args()
    if args.quick:
        args.leads, args.seed_leads, args.rounds = 100_000, 5_000, 3
    rows = asyncio.run(run(url, console, args.seed_leads, args.leads, args.rounds, lag=not args.quick))
    table = Table("what", "figure", "ratio / note", title="metrics reports (PostgreSQL)")
    for row in rows:
        table.add_row(*row)
    console.print(table)
    print("| what | figure | ratio / note |\n|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
