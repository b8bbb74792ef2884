"""What one delivery-ledger row costs on SQLite, keyed (the table before i0007) against append-only (after).

The after-ack batch's ledger rows alone, as the writer thread writes them: batches of 16 rows (what
bench/ingest.py's load gives), `BEGIN IMMEDIATE` / `executemany` / `COMMIT`, a PASSIVE checkpoint every
30 batches, into a table that already holds 100,000 rows. The keyed table has the old primary key on
(source, scope, delivery_key), a random B-tree insert per row (delivery ids are random); the append-only
one a rowid and the `created_at` index only. CPU and wall time per row, rounds interleaved.

    .venv/bin/python bench/ingest_ledger_rows.py
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sqlite3
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from rich.progress import Progress
from rich.table import Table

COLUMNS = (
    "source TEXT, scope TEXT, delivery_key TEXT, body_hash TEXT, event_id TEXT, lead_id TEXT, created_at TEXT"
)
LAYOUTS = {
    "keyed (primary key on the delivery key, before i0007)": (
        f"({COLUMNS}, PRIMARY KEY (source, scope, delivery_key))"
    ),
    "append-only (rowid + created_at index, i0007)": f"(id INTEGER PRIMARY KEY, {COLUMNS})",
}


def _row() -> tuple[str, ...]:
    return (
        "webinar",
        "lead",
        "msg_" + uuid.uuid4().hex,
        hashlib.sha256(os.urandom(8)).hexdigest(),
        str(uuid.uuid4()),
        str(uuid.uuid4()),
        datetime.now(UTC).isoformat(),
    )


def measure(path: Path, table: str, existing: int, rows: int, batch: int) -> tuple[float, float]:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute(f"CREATE TABLE d {table}")
    conn.execute("CREATE INDEX d_created ON d(created_at)")
    insert = (
        "INSERT INTO d (source, scope, delivery_key, body_hash, event_id, lead_id, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)"
    )
    conn.execute("BEGIN")
    conn.executemany(insert, [_row() for _ in range(existing)])
    conn.execute("COMMIT")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    batches = [[_row() for _ in range(batch)] for _ in range(rows // batch)]
    cpu, wall = time.process_time(), time.perf_counter()
    for n, chunk in enumerate(batches):
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(insert, chunk)
        conn.execute("COMMIT")
        if n % 30 == 0:
            conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    conn.close()
    return cpu * 1e6 / rows, wall * 1e6 / rows


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--existing", type=int, default=100_000)
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=16)
    args = parser.parse_args()
    console = Console()
    results: dict[str, list[tuple[float, float]]] = {name: [] for name in LAYOUTS}
    with tempfile.TemporaryDirectory(prefix="bench-ledger-") as tmp, Progress(console=console) as progress:
        task = progress.add_task("ledger rows", total=args.rounds * len(LAYOUTS))
        for n in range(args.rounds):
            for name, table in LAYOUTS.items():
                progress.update(task, description=name.split(" (")[0])
                path = Path(tmp) / f"{n}-{len(results[name])}-{name[:5]}.db"
                results[name].append(measure(path, table, args.existing, args.rows, args.batch))
                progress.advance(task)
    out = Table(
        title=f"ledger rows on SQLite: batches of {args.batch} into {args.existing:,} rows, "
        f"{args.rounds} rounds"
    )
    for column in ("table", "CPU µs a row, by round", "wall µs a row, by round"):
        out.add_column(column, justify="left" if column == "table" else "right")
    for name, runs in results.items():
        out.add_row(name, " ".join(f"{c:.1f}" for c, _ in runs), " ".join(f"{w:.1f}" for _, w in runs))
    console.print(out)


if __name__ == "__main__":
    main()
