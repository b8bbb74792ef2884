"""Several instances of one service starting at once on one SQLite file (two deliverers, or every
service of `leadrelay up`) must all come up: one migrates, the others wait and find it done.
Seen in CI before the lock: `table delivery_messages already exists`, and the second instance exited."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.db

ROOT = Path(__file__).resolve().parents[2]
MIGRATE = (
    "import asyncio, sys\n"
    "from shared.db import create_engine\n"
    "from shared.db.migrate import migrate_service\n"
    "async def main() -> None:\n"
    "    engine = create_engine(sys.argv[1])\n"
    "    try:\n"
    "        await migrate_service(engine, sys.argv[2])\n"
    "    finally:\n"
    "        await engine.dispose()\n"
    "asyncio.run(main())\n"
)


@pytest.mark.parametrize("service", ["delivery", "metrics"])
def test_instances_migrating_one_sqlite_file_at_once_all_succeed(tmp_path: Path, service: str) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'shared.db'}"
    children = [
        subprocess.Popen(
            [sys.executable, "-c", MIGRATE, url, service],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(6)
    ]
    results = [(child.wait(timeout=120), child.stdout.read() if child.stdout else "") for child in children]
    failed = [output[-2000:] for code, output in results if code != 0]
    assert failed == [], f"{len(failed)} of 6 instances failed to migrate:\n" + "\n---\n".join(failed)
