"""LeadRelay services as child processes: start one on a port, wait until ready, stop them together."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

from shared.kafka.process import ChildProcess, free_port

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class ServiceProcess:
    name: str
    port: int
    child: ChildProcess

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        return self.child.pid

    @property
    def log(self) -> Path:
        assert self.child.log_path is not None  # services always log to a file
        return self.child.log_path


def clean_env(extra: Mapping[str, str]) -> dict[str, str]:
    """The caller's environment minus LEADRELAY_* (a developer's shell must not skew a run), plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEADRELAY_")}
    env.update(extra)
    return env


def service_env(
    bootstrap: str, database_url: str, prefix: str, *, api_key: str, partitions: int = 3
) -> dict[str, str]:
    """An isolated run: its own topic prefix and consumer groups on a shared broker."""
    return clean_env(
        {
            "LEADRELAY_KAFKA_BOOTSTRAP": bootstrap,
            "LEADRELAY_DATABASE_URL": database_url,
            "LEADRELAY_TOPIC_PREFIX": prefix,
            "LEADRELAY_CONFIG": str(ROOT / "examples" / "leadrelay.yaml"),
            "LEADRELAY_KAFKA_PARTITIONS": str(partitions),
            "LEADRELAY_INGEST_API_KEY": api_key,
            # Groups of this run's own: a previous run's members must not have to time out first.
            "LEADRELAY_ROUTER_GROUP_ID": f"{prefix}router",
            "LEADRELAY_METRICS_GROUP_ID": f"{prefix}metrics",
            "LEADRELAY_DELIVERY_GROUP_ID": f"{prefix}delivery",
        }
    )


def start_service(
    name: str,
    env: Mapping[str, str],
    log_dir: Path,
    *,
    port: int | None = None,
    argv: Sequence[str] | None = None,
    cwd: Path | None = ROOT,
    die_with_parent: bool = False,
) -> ServiceProcess:
    """`python -m services <name>` (or `argv`) on `port` (default: free), logged to log_dir/<name>.log."""
    port = port or free_port()
    child = ChildProcess(
        name,
        argv or [sys.executable, "-m", "services", name],
        env={**env, f"LEADRELAY_{name.upper()}_PORT": str(port)},
        cwd=cwd,
        log_path=log_dir / f"{name}.log",
        die_with_parent=die_with_parent,
    )
    child.start()
    return ServiceProcess(name, port, child)


def _ready(client: httpx.Client, service: ServiceProcess) -> bool:
    try:
        return client.get(f"{service.url}/readyz").status_code == 200
    except httpx.HTTPError:
        return False


def wait_ready(services: Sequence[ServiceProcess], timeout_s: float = 60.0) -> None:
    """Until every service answers /readyz with 200; RuntimeError (with the log's tail) if one exits."""
    deadline = time.monotonic() + timeout_s
    pending = list(services)
    with httpx.Client(timeout=1.0) as client:
        while pending:
            for service in list(pending):
                if (code := service.child.returncode) is not None:
                    tail = service.child.log_tail()
                    raise RuntimeError(f"{service.name} exited with code {code}; see {service.log}\n{tail}")
                if _ready(client, service):
                    pending.remove(service)
            if pending and time.monotonic() > deadline:
                names = ", ".join(s.name for s in pending)
                raise RuntimeError(f"not ready after {timeout_s:.0f}s: {names}; see {pending[0].log.parent}")
            if pending:
                time.sleep(0.1)


def stop_all(services: Sequence[ServiceProcess], timeout_s: float = 30.0) -> dict[str, int | None]:
    """SIGTERM every service at once, then collect exit codes (0 = clean shutdown)."""
    for service in services:
        service.child.terminate()
    return {service.name: service.child.wait(timeout_s) for service in services}
