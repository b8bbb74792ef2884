"""`leadrelay up`: the whole stack on the embedded defaults, as child processes of one supervisor.

Embedded broker (unless LEADRELAY_KAFKA_BOOTSTRAP points elsewhere), SQLite under
./.leadrelay/ (unless LEADRELAY_DATABASE_URL does), then ingest, router and metrics.
SIGINT/SIGTERM stop every child, broker last. Children also get SIGTERM if the
supervisor itself dies (PR_SET_PDEATHSIG), so nothing is left running.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from shared.kafka.embedded import EmbeddedBroker, free_port, port_open
from shared.settings import DEFAULT_STATE_DIR

SERVICES = ("ingest", "router", "metrics")


def _die_with_parent() -> None:  # runs in the child between fork and exec
    if sys.platform.startswith("linux"):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


@dataclass
class Child:
    name: str
    proc: subprocess.Popen[bytes]
    log_path: Path | None


@dataclass
class Stack:
    state_dir: Path = DEFAULT_STATE_DIR
    ports: dict[str, int] = field(default_factory=lambda: {"ingest": 8000, "router": 8001, "metrics": 8002})
    broker: EmbeddedBroker | None = None
    children: list[Child] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)

    def start_broker(self, say: Callable[[str], None]) -> str:
        external = os.environ.get("LEADRELAY_KAFKA_BOOTSTRAP")
        if external:
            say(f"using Kafka at {external} (LEADRELAY_KAFKA_BOOTSTRAP)")
            return external
        port = 9092 if not port_open("127.0.0.1", 9092) else free_port()
        self.broker = EmbeddedBroker(port=port, log_path=self.state_dir / "logs" / "broker.log")
        self.broker.start()
        say(f"embedded Kafka-protocol broker (Tansu, memory storage) on {self.broker.bootstrap}")
        return self.broker.bootstrap

    def prepare(self, say: Callable[[str], None]) -> None:
        (self.state_dir / "logs").mkdir(parents=True, exist_ok=True)
        for name, port in self.ports.items():
            if port_open("127.0.0.1", port):
                raise RuntimeError(
                    f"port {port} ({name}) is in use; stop what listens there or set "
                    f"LEADRELAY_{name.upper()}_PORT to a free port"
                )
        bootstrap = self.start_broker(say)
        self.env = {**os.environ, "LEADRELAY_KAFKA_BOOTSTRAP": bootstrap}
        if "LEADRELAY_DATABASE_URL" not in self.env:
            # Embedded default: one SQLite file per service (each owns its tables), so the
            # services never queue on one another's write lock.
            for name in SERVICES:
                path = (self.state_dir / f"{name}.db").resolve()
                self.env.setdefault(f"LEADRELAY_{name.upper()}_DATABASE_URL", f"sqlite+aiosqlite:///{path}")
        self.env.setdefault("LEADRELAY_LOG_FORMAT", "json")

    def spawn(self, name: str, args: list[str], *, log: bool = True) -> Child:
        log_path = self.state_dir / "logs" / f"{name}.log" if log else None
        out = open(log_path, "ab") if log_path else None
        proc = subprocess.Popen(
            [sys.executable, "-m", "services", *args],
            env=self.env,
            stdout=out,
            stderr=out,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
        child = Child(name, proc, log_path)
        self.children.append(child)
        return child

    def start_services(self) -> None:
        for name in SERVICES:
            self.spawn(name, [name])

    def wait_ready(self, timeout_s: float = 90.0) -> None:
        deadline = time.monotonic() + timeout_s
        pending = dict(self.ports)
        with httpx.Client(timeout=1.0) as client:
            while pending:
                self.check_children()
                for name, port in list(pending.items()):
                    try:
                        if client.get(f"http://127.0.0.1:{port}/readyz").status_code == 200:
                            del pending[name]
                    except httpx.HTTPError:
                        pass
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"not ready after {timeout_s:.0f}s: {', '.join(pending)}; "
                        f"see {self.state_dir / 'logs'}"
                    )
                time.sleep(0.2)

    def check_children(self) -> None:
        for child in self.children:
            code = child.proc.poll()
            if code is not None and child.name in SERVICES:
                where = f"; see {child.log_path}" if child.log_path else ""
                raise RuntimeError(f"{child.name} exited with code {code}{where}")

    def stop(self) -> None:
        for child in reversed(self.children):
            if child.proc.poll() is None:
                os.killpg(child.proc.pid, signal.SIGTERM)
        for child in reversed(self.children):
            try:
                child.proc.wait(25)
            except subprocess.TimeoutExpired:
                os.killpg(child.proc.pid, signal.SIGKILL)
                child.proc.wait()
        self.children.clear()
        if self.broker is not None:
            self.broker.stop()
            self.broker = None
