"""`leadrelay import FILE` and `leadrelay replay`: typer-friendly functions with progress bars.

Both write the metrics database (LEADRELAY_METRICS_DATABASE_URL or LEADRELAY_DATABASE_URL),
migrated first, through the same projection as the live consumer.
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from services.metrics.importer import Parsed, Rejected, check_capture, lead_ids, parse
from services.metrics.projection.repository import ProjectionRepository
from services.metrics.replay import project_batch, replay
from services.metrics.settings import MetricsSettings
from shared.db import create_engine, create_session_factory
from shared.db.migrate import migrate_service

BATCH = 2000  # facts per transaction


@dataclass
class ImportResult:
    rows: int
    imported: int  # new facts stored
    unchanged: int  # rows already imported before (same content, same id)
    rejected: list[Rejected] = field(default_factory=list)


async def import_rows(
    sessions: async_sessionmaker[AsyncSession],
    parsed: Parsed,
    advance: Callable[[int], None] = lambda n: None,
) -> ImportResult:
    ids = lead_ids(f for _, f in parsed.facts)
    async with sessions() as session:
        known = await ProjectionRepository(session).captures(ids)
    facts = check_capture(parsed, known)
    facts.sort(key=lambda f: f.lead_id)  # a lead's facts together: each lead refolds once per batch
    new = 0
    for start in range(0, len(facts), BATCH):
        batch = facts[start : start + BATCH]
        new += await project_batch(sessions, batch)
        advance(len(batch))
    return ImportResult(parsed.rows, new, len(facts) - new, parsed.rejected)


def _progress(console: Console, label: str) -> Progress:
    columns = (TextColumn(f"[bold]{label}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    return Progress(*columns, console=console)


async def _open(settings: MetricsSettings) -> tuple[AsyncEngine, async_sessionmaker[AsyncSession]]:
    engine = create_engine(settings.effective_database_url)
    await migrate_service(engine, "metrics")
    return engine, create_session_factory(engine)


def import_file(file: Path, console: Console) -> ImportResult:
    """Import a CSV of historical events; prints a summary of what was imported and rejected."""
    with file.open(newline="", encoding="utf-8") as handle:
        parsed = parse(handle)

    async def run() -> ImportResult:
        engine, sessions = await _open(MetricsSettings())
        try:
            with _progress(console, f"importing {file.name}") as progress:
                task = progress.add_task("rows", total=len(parsed.facts))
                result = await import_rows(sessions, parsed, lambda n: progress.advance(task, n))
                progress.update(task, completed=len(parsed.facts))
        finally:
            await engine.dispose()
        return result

    result = asyncio.run(run())
    console.print(
        f"{result.rows} rows: [green]{result.imported} imported[/], {result.unchanged} already there, "
        f"[red]{len(result.rejected)} rejected[/]"
    )
    if result.rejected:
        table = Table("why rejected", "rows", "first lines")
        by_reason = Counter(_reason_kind(r.reason) for r in result.rejected)
        for kind, n in by_reason.most_common():
            lines = [str(r.line) for r in result.rejected if _reason_kind(r.reason) == kind][:5]
            table.add_row(kind, str(n), ", ".join(lines))
        console.print(table)
        for r in result.rejected[:20]:
            console.print(f"  line {r.line}: {r.reason}", markup=False)
    return result


def _reason_kind(reason: str) -> str:
    """Group reasons by their kind: the quoted values and the details in brackets left out."""
    return re.sub(r"'[^']*'|\(.*?\)", "…", reason).split(":")[0].strip()


def replay_all(console: Console) -> int:
    """Rebuild every per-lead row from the metrics log; returns how many leads."""

    async def run() -> int:
        engine, sessions = await _open(MetricsSettings())
        try:
            with _progress(console, "replaying") as progress:
                task = progress.add_task("leads", total=None)
                return await replay(sessions, lambda n: progress.advance(task, n))
        finally:
            await engine.dispose()

    leads = asyncio.run(run())
    console.print(f"rebuilt {leads} leads from the metrics log")
    return leads
