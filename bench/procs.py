"""Benchmark servers: start an app under uvicorn, read a process's CPU time.

Readiness and stopping are the e2e test helpers' (tests/e2e/processes.py).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from shared.kafka.embedded import free_port
from tests.e2e.processes import ROOT, Service

_CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int | None) -> float:
    """User + system CPU seconds a process has used so far (Linux /proc); 0.0 when unknown."""
    if pid is None:
        return 0.0
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / _CLK_TCK  # utime, stime (fields 14 and 15)


def start_uvicorn(name: str, factory: str, env: dict[str, str], log_dir: Path) -> Service:
    """One uvicorn worker on 127.0.0.1, default loop/http (uvloop + httptools, as in production)."""
    port = free_port()
    log = log_dir / f"{name}.log"
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        factory,
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "1",
        "--no-access-log",
        "--log-level",
        "warning",
    ]
    proc = subprocess.Popen(
        command,
        env=env,
        cwd=ROOT,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    return Service(name, port, proc, log)
