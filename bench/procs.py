"""Benchmark servers: start an app under uvicorn, read a process's CPU time.

Starting, readiness and stopping are the dev stack's (services/devstack), as for `leadrelay up`.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from services.devstack import ServiceProcess, free_port, start_service

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


def start_uvicorn(name: str, factory: str, env: dict[str, str], log_dir: Path) -> ServiceProcess:
    """One uvicorn worker on 127.0.0.1, default loop/http (uvloop + httptools, as in production)."""
    port = free_port()
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
    return start_service(name, env, log_dir, port=port, argv=command)
