"""Metrics reports benchmark (PostgreSQL): funnel and response-time reports over 1M leads against a
hand-written SQL GROUP BY in the same run, the import rate, and event-to-report lag at a steady load.

    LEADRELAY_BENCH_POSTGRES_URL=postgresql://user:pw@host:5432/db .venv/bin/python -m bench.metrics

20,000 synthetic leads go through the real import path (facts, fold, batched writes); the read
model is then grown to 1M leads by copying those rows under new ids (same distributions), since
reports read only the per-lead rows. Each report and its baseline run interleaved, median of 5.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import asyncpg  # type: ignore[import-untyped]
from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.metrics.domain.periods import window
from services.metrics.funnel.service import funnel_report
from services.metrics.handlers import metrics_dispatcher
from services.metrics.replay import facts_of, project_batch
from services.metrics.reports.scope import Scope
from services.metrics.response_times.service import response_times_report
from services.metrics.synthetic import history
from shared.db import create_engine, create_session_factory
from shared.db.migrate import migrate_service
from shared.dispatch import decode

SEED_LEADS, COPIES, ROUNDS = 20_000, 50, 5
LAG_RATE, LAG_SECONDS = 100, 10
FUNNEL_SQL = """SELECT source, count(*), count(mql_at), count(assigned_at), count(sal_at), count(sql_at),
  count(won_at), count(deal_value), sum(deal_value), count(disqualified_at), count(lost_at)
  FROM metrics_leads GROUP BY source"""
RESPONSE_SQL = """SELECT source, count(*), percentile_cont(ARRAY[0.5, 0.9, 0.99]) WITHIN GROUP
  (ORDER BY extract(epoch FROM first_touch_at - captured_at) / 60)
  FROM metrics_leads WHERE first_touch_at IS NOT NULL GROUP BY source"""
COLUMNS = """source, captured_at, furthest_rank, updated_at, campaign, product_line, team, rep_id,
  first_touch_at, mql_at, queued_at, assigned_at, sal_at, sql_at, won_at, lost_at, disqualified_at,
  nurturing_at, rejected_at, deal_value, expected_close, sla_first_touch"""


async def _timed(call: Callable[[], Awaitable[object]]) -> float:
    start = time.perf_counter()
    await call()
    return time.perf_counter() - start


async def _compare(
    sessions: async_sessionmaker[AsyncSession], report: Callable[[AsyncSession], Awaitable[object]], sql: str
) -> tuple[float, float]:
    ours, base = [], []
    async with sessions() as s:
        for _ in range(ROUNDS):
            ours.append(await _timed(lambda: report(s)))
            base.append(await _timed(lambda: s.execute(text(sql))))
    return statistics.median(ours), statistics.median(base)


async def _lag(sessions: async_sessionmaker[AsyncSession]) -> list[float]:
    """Seconds from an event's arrival to its lead being in the reports, at a steady rate."""
    handler = metrics_dispatcher(sessions)
    events = [e for story in history(LAG_RATE * LAG_SECONDS, seed=77) for e in story[:1]]
    lags, start = [], time.perf_counter()
    for n, e in enumerate(events):
        due = start + n / LAG_RATE
        if (pause := due - time.perf_counter()) > 0:
            await asyncio.sleep(pause)
        decoded = decode(e.cloud_event().to_bytes())
        assert decoded is not None
        await handler.dispatch(*decoded)
        lags.append(time.perf_counter() - due)
    return lags


async def run(url: str, console: Console) -> list[tuple[str, str, str]]:
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
            task = progress.add_task("import 20k leads", total=SEED_LEADS)
            stories = history(SEED_LEADS, seed=3)
            decoded = [d for st in stories for e in st if (d := decode(e.cloud_event().to_bytes()))]
            facts = facts_of(decoded)
            started = time.perf_counter()
            for i in range(0, len(facts), 2000):
                await project_batch(sessions, facts[i : i + 2000])
                progress.update(task, completed=SEED_LEADS * min(i + 2000, len(facts)) // len(facts))
            took = time.perf_counter() - started
            rows.append(
                (
                    "import (facts through the projection, batches of 2,000)",
                    f"{len(facts) / took:,.0f} events/s",
                    f"{SEED_LEADS / took:,.0f} leads/s",
                )
            )
            task = progress.add_task("grow to 1M leads", total=1)
            async with sessions() as s, s.begin():
                await s.execute(
                    text(
                        f"INSERT INTO metrics_leads (lead_id, {COLUMNS}) "
                        f"SELECT lead_id || '-' || g, {COLUMNS} "
                        f"FROM metrics_leads CROSS JOIN generate_series(1, {COPIES - 1}) g"
                    )
                )
            async with sessions() as s:
                await s.execute(text("ANALYZE metrics_leads"))
                total = (await s.execute(text("SELECT count(*) FROM metrics_leads"))).scalar_one()
            progress.update(task, completed=1)
            everyone = Scope(window("all", "UTC", now=datetime.now(UTC)), {}, "source")
            task = progress.add_task("reports vs GROUP BY", total=2)
            ours, base = await _compare(sessions, lambda s: funnel_report(s, everyone), FUNNEL_SQL)
            rows.append(
                (
                    f"GET /v1/funnel?by=source over {total:,} leads",
                    f"{ours * 1000:,.0f} ms vs {base * 1000:,.0f} ms",
                    f"{ours / base:.2f}x (goal <= 3x)",
                )
            )
            progress.advance(task)
            ours, base = await _compare(sessions, lambda s: response_times_report(s, everyone), RESPONSE_SQL)
            rows.append(
                (
                    f"GET /v1/response-times?by=source over {total:,} leads",
                    f"{ours * 1000:,.0f} ms vs {base * 1000:,.0f} ms",
                    f"{ours / base:.2f}x (goal <= 3x)",
                )
            )
            progress.advance(task)
            task = progress.add_task(f"lag at {LAG_RATE} events/s", total=1)
            lags = sorted(await _lag(sessions))
            q = statistics.quantiles(lags, n=100, method="inclusive")
            rows.append(
                (
                    f"event -> in the reports, {LAG_RATE} events/s for {LAG_SECONDS} s",
                    f"P50 {q[49] * 1000:.1f} ms, P99 {q[98] * 1000:.1f} ms",
                    "one transaction per event",
                )
            )
            progress.advance(task)
        return rows
    finally:
        await engine.dispose()
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def main() -> None:
    console = Console()
    url = os.environ.get("LEADRELAY_BENCH_POSTGRES_URL") or os.environ.get("LEADRELAY_TEST_POSTGRES_URL")
    if not url:
        raise SystemExit(
            "set LEADRELAY_BENCH_POSTGRES_URL to a PostgreSQL server the bench may create databases on"
        )
    rows = asyncio.run(run(url, console))
    table = Table("what", "figure", "ratio / note", title="metrics reports (PostgreSQL)")
    for row in rows:
        table.add_row(*row)
    console.print(table)
    print("| what | figure | ratio / note |\n|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
