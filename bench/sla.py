"""SLA timers: firing lateness with 100k open timers, and the timer loop's rate vs a bare SELECT.

    .venv/bin/python bench/sla.py                       # SQLite file in a temp dir
    .venv/bin/python bench/sla.py --database-url postgresql://...   # an empty PostgreSQL database
    .venv/bin/python bench/sla.py --quick               # smoke run, small counts

One run, one table:
1. seed `--open` pending timers (first-touch ladders: warning, breach, remind, reassign, notify) on
   open clocks, due far in the future, so every query below runs over a table of that size;
2. lateness: `--lateness` more timers due over the next `--window` seconds on the real clock, with
   the real loop (`SlaTimerLoop.run`, SystemClock) firing them; lateness = fired_at - due_at;
3. rate: `--due` of the seeded timers made due; a bare `SELECT` of due rows (keyset pages of the
   loop's batch size) reads them, then the loop fires them (claim, ladder, outbox, mark) — rows/s each,
   and the loop's own CPU per fired timer.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import and_, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.router.domain.decision import Router
from services.router.domain.routing import teams_from_config
from services.router.domain.rules import RuleSet
from services.router.sla import ManualClock, SystemClock, schedule
from services.router.sla.ladder import Ladder
from services.router.sla.repository import ClockRow, SlaRepository
from services.router.sla.service import SlaService
from services.router.sla.setup import SlaSetup
from services.router.sla.time_source import Clock
from services.router.sla.timer_loop import SlaTimerLoop
from services.router.tables import sla_timers
from shared.config import load_config
from shared.db import create_engine, create_session_factory
from shared.db.migrate import migrate_service
from shared.events import Topics, stable_id
from shared.logging import configure_logging

CONFIG = load_config(Path(__file__).resolve().parents[1] / "examples/leadrelay.yaml")
POLICY = next(p for p in CONFIG.sla if p.name == "first-touch")
TOPICS = Topics("bench.")
FAR = datetime(2030, 1, 7, 14, 0, tzinfo=UTC)  # a Monday, 09:00 New York: the seeded clocks start here


def parts(clock: Clock) -> Ladder:
    router = Router(RuleSet.from_config(CONFIG.qualification), teams_from_config(CONFIG.routing))
    return Ladder(SlaService(SlaSetup.from_config(CONFIG), clock), router.teams)


async def seed(sessions: async_sessionmaker[AsyncSession], timers: int, progress: Progress) -> list[str]:
    setup = SlaSetup.from_config(CONFIG)
    calendar = setup.calendar_for(POLICY, "inbound-amer", "ana")
    clocks = -(-timers // 5)
    task = progress.add_task("seed open timers", total=clocks * 5)
    ids: list[str] = []
    for start in range(0, clocks, 500):
        async with sessions() as session, session.begin():
            repo = SlaRepository(session)
            for n in range(start, min(start + 500, clocks)):
                started = FAR + timedelta(seconds=n % 20_000)
                planned = schedule(POLICY, calendar, started, [], started)
                clock_id = stable_id("bench", str(n))
                row = ClockRow(
                    clock_id, f"lead-{n}", POLICY.name, "first_touch", "inbound-amer", "ana", "api",
                    started, started, planned.breach_at, "open",
                )  # fmt: skip
                await repo.open_clock(row, [(stable_id(clock_id, t.key), t) for t in planned.timers])
                ids.append(clock_id)
        progress.update(task, completed=min(start + 500, clocks) * 5)
    return ids


async def lateness(
    sessions: async_sessionmaker[AsyncSession],
    clock_ids: list[str],
    count: int,
    window_s: float,
    progress: Progress,
) -> list[float]:
    """`count` warning timers due over the next `window_s` real seconds, fired by the real loop."""
    t0 = datetime.now(UTC) + timedelta(seconds=2)
    async with sessions() as session, session.begin():
        await session.execute(
            sla_timers.insert(),
            [
                {"timer_id": f"late-{i}", "clock_id": clock_ids[i % len(clock_ids)], "lead_id": "x",
                 "key": f"late-{i}", "kind": "warning", "state": "pending",
                 "due_at": t0 + timedelta(seconds=window_s * i / count)}
                for i in range(count)
            ],
        )  # fmt: skip
    loop = SlaTimerLoop(sessions, parts(SystemClock()), TOPICS)
    stop = asyncio.Event()
    runner = asyncio.create_task(loop.run(stop))
    task = progress.add_task(f"lateness: {count} timers over {window_s:.0f} s", total=count)
    while loop.fired < count:
        progress.update(task, completed=loop.fired)
        await asyncio.sleep(0.2)
    progress.update(task, completed=count)
    stop.set()
    await runner
    async with sessions() as session:
        rows = await session.execute(
            select(sla_timers.c.due_at, sla_timers.c.fired_at).where(sla_timers.c.timer_id.like("late-%"))
        )
        return sorted((fired - due).total_seconds() for due, fired in rows)


async def bare_select(
    sessions: async_sessionmaker[AsyncSession], now: datetime, batch: int
) -> tuple[int, float]:
    """Read every due row in keyset pages of `batch`, the loop's columns and order, nothing else."""
    cols = [sla_timers.c[c] for c in ("id", "timer_id", "clock_id", "lead_id", "key", "kind", "action",
                                      "queue", "step", "due_at")]  # fmt: skip
    read, last = 0, None
    started = time.perf_counter()
    async with sessions() as session:
        while True:
            stmt = select(*cols).where(sla_timers.c.state == "pending", sla_timers.c.due_at <= now)
            if last is not None:
                stmt = stmt.where(tuple_(sla_timers.c.due_at, sla_timers.c.id) > last)
            rows = (
                await session.execute(stmt.order_by(sla_timers.c.due_at, sla_timers.c.id).limit(batch))
            ).all()
            if not rows:
                break
            read += len(rows)
            last = (rows[-1].due_at, rows[-1].id)
    return read, time.perf_counter() - started


async def rate(
    sessions: async_sessionmaker[AsyncSession], due: int, batch: int, progress: Progress
) -> tuple[int, float, int, float, float]:
    # Make exactly `due` seeded timers due at `now` (the earliest ones), leave the rest far ahead.
    async with sessions() as session:
        cutoff_row = (
            await session.execute(
                select(sla_timers.c.due_at, sla_timers.c.id).where(sla_timers.c.state == "pending")
                .order_by(sla_timers.c.due_at, sla_timers.c.id).offset(due - 1).limit(1)
            )
        ).one()  # fmt: skip
    now = cutoff_row.due_at
    async with sessions() as session, session.begin():  # ties at the cutoff instant stay out
        await session.execute(
            update(sla_timers)
            .where(and_(sla_timers.c.due_at == now, sla_timers.c.id > cutoff_row.id))
            .values(due_at=now + timedelta(microseconds=1))
        )
    read, select_s = await bare_select(sessions, now, batch)
    loop = SlaTimerLoop(sessions, parts(ManualClock(now)), TOPICS, batch_size=batch)
    task = progress.add_task(f"rate: loop fires {read} due timers", total=read)
    started, cpu = time.perf_counter(), time.process_time()
    while await loop.fire_due():
        progress.update(task, completed=loop.fired)
    fire_s, cpu_s = time.perf_counter() - started, time.process_time() - cpu
    progress.update(task, completed=read)
    return read, select_s, loop.fired, fire_s, cpu_s


def pct(values: list[float], p: float) -> float:
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]


async def main(args: argparse.Namespace) -> None:
    configure_logging("WARNING", "console")
    url = args.database_url or f"sqlite+aiosqlite:///{tempfile.mkdtemp(prefix='leadrelay-sla-')}/bench.db"
    engine = create_engine(url)
    await migrate_service(engine, "router")
    sessions = create_session_factory(engine)
    console = Console()
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console) as progress:
        clock_ids = await seed(sessions, args.open, progress)
        late = await lateness(sessions, clock_ids, args.lateness, args.window, progress)
        read, select_s, fired, fire_s, cpu_s = await rate(sessions, args.due, args.batch, progress)
    await engine.dispose()
    backend = "PostgreSQL" if url.startswith("postgres") else "SQLite"
    table = Table(title=f"SLA timers on {backend}: {args.open:,} open timers")
    for name in ("what", "figure", "target"):
        table.add_column(name)
    table.add_row(
        f"firing lateness, {args.lateness:,} timers due over {args.window:.0f} s (real loop, system clock)",
        f"P50 {pct(late, 50) * 1000:.0f} ms, P99 {pct(late, 99) * 1000:.0f} ms, max {late[-1] * 1000:.0f} ms",
        "P99 < 1 s: " + ("met" if pct(late, 99) < 1 else "NOT met"),
    )
    loop_rate, select_rate = fired / fire_s, read / select_s
    table.add_row(
        f"timer loop firing {fired:,} due timers (claim, ladder, outbox, mark; batch {args.batch})",
        f"{loop_rate:,.0f} timers/s",
        "",
    )
    table.add_row(
        f"bare SELECT of the same {read:,} due rows, same order and pages", f"{select_rate:,.0f} rows/s", ""
    )
    table.add_row("loop / bare SELECT", f"{loop_rate / select_rate:.3f}x", "")
    table.add_row(
        "loop CPU per fired timer (this process: ladder steps, events, driver; not the database's)",
        f"{cpu_s / fired * 1e6:,.0f} µs",
        "",
    )
    console.print(table)
    print(
        f"\nmean lateness {statistics.fmean(late) * 1000:.0f} ms; "
        f"min {late[0] * 1000:.0f} ms (never negative)"
    )
    assert late[0] >= 0 and fired == read


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url")
    parser.add_argument("--open", type=int, default=100_000)
    parser.add_argument("--lateness", type=int, default=5_000)
    parser.add_argument("--window", type=float, default=10.0)
    parser.add_argument("--due", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=200)
    parser.add_argument("--quick", action="store_true")
    parsed = parser.parse_args()
    if parsed.quick:
        parsed.open, parsed.lateness, parsed.window, parsed.due = 5_000, 500, 3.0, 1_000
    asyncio.run(main(parsed))
