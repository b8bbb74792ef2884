"""Start LeadRelay services as real OS processes for end-to-end tests."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from shared.kafka.embedded import free_port

ROOT = Path(__file__).resolve().parents[2]
API_KEY = "e2e-key"


@dataclass
class Service:
    name: str
    port: int
    proc: subprocess.Popen[bytes]
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def clean_env(extra: dict[str, str]) -> dict[str, str]:
    """The caller's environment minus LEADRELAY_* (a developer's shell must not skew a run), plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEADRELAY_")}
    env.update(extra)
    return env


def service_env(bootstrap: str, database_url: str, prefix: str) -> dict[str, str]:
    return clean_env(
        {
            "LEADRELAY_KAFKA_BOOTSTRAP": bootstrap,
            "LEADRELAY_DATABASE_URL": database_url,
            "LEADRELAY_TOPIC_PREFIX": prefix,
            "LEADRELAY_CONFIG": str(ROOT / "examples" / "leadrelay.yaml"),
            "LEADRELAY_KAFKA_PARTITIONS": "3",
            "LEADRELAY_INGEST_API_KEY": API_KEY,
            # Groups of this test's own: a previous test's members must not have to time out first.
            "LEADRELAY_ROUTER_GROUP_ID": f"{prefix}router",
            "LEADRELAY_METRICS_GROUP_ID": f"{prefix}metrics",
        }
    )


def start(name: str, env: dict[str, str], log_dir: Path) -> Service:
    port = free_port()
    log = log_dir / f"{name}.log"
    proc = subprocess.Popen(
        [sys.executable, "-m", "services", name],
        env={**env, f"LEADRELAY_{name.upper()}_PORT": str(port)},
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        cwd=ROOT,
        start_new_session=True,
    )
    return Service(name, port, proc, log)


def wait_ready(services: list[Service], timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    pending = list(services)
    while pending:
        for svc in list(pending):
            assert svc.proc.poll() is None, f"{svc.name} exited:\n{svc.log.read_text()[-3000:]}"
            try:
                if httpx.get(f"{svc.url}/readyz", timeout=1).status_code == 200:
                    pending.remove(svc)
            except httpx.HTTPError:
                pass
        assert time.monotonic() < deadline, f"not ready: {[s.name for s in pending]}"
        time.sleep(0.2)


def _terminate(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)  # each process runs in its own session


def _wait_or_kill(proc: subprocess.Popen[bytes], timeout_s: float) -> int:
    try:
        return proc.wait(timeout_s)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        return proc.wait()


def stop_process(proc: subprocess.Popen[bytes], timeout_s: float = 30.0) -> int:
    """SIGTERM one process group, SIGKILL if it lingers; the exit code."""
    _terminate(proc)
    return _wait_or_kill(proc, timeout_s)


def stop(services: list[Service]) -> dict[str, int]:
    """SIGTERM every service at once, then collect exit codes (0 = clean shutdown)."""
    for svc in services:
        _terminate(svc.proc)
    return {svc.name: _wait_or_kill(svc.proc, 30.0) for svc in services}
