"""`leadrelay up`: the whole stack as child processes of one supervisor.

A broker (embedded Tansu by default, Apache Kafka with `--broker kafka`; none when
LEADRELAY_KAFKA_BOOTSTRAP points at one), SQLite under ./.leadrelay/ (unless
LEADRELAY_DATABASE_URL says otherwise), then ingest, router, metrics and delivery. SIGINT/SIGTERM stop
every child, broker last. Children also get SIGTERM if the supervisor itself dies
(PR_SET_PDEATHSIG), so nothing is left running.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from services.devstack.processes import ServiceProcess, start_service, stop_all, wait_ready
from services.devstack.supervisor import RestartPolicy
from shared.kafka.apache import ApacheKafkaBroker
from shared.kafka.brokers import Broker, BrokerKind
from shared.kafka.embedded import EmbeddedBroker
from shared.kafka.process import ChildProcess, free_port, port_open
from shared.settings import DEFAULT_STATE_DIR

SERVICES = ("ingest", "router", "metrics", "delivery")
# The consumers' session timeout on the embedded broker (unless LEADRELAY_KAFKA_SESSION_TIMEOUT_MS
# says otherwise): Kafka's floor, as the e2e tests run it (tests/helpers/stack.py).
EMBEDDED_SESSION_TIMEOUT_MS = 6000


@dataclass
class Stack:
    state_dir: Path = DEFAULT_STATE_DIR
    ports: dict[str, int] = field(
        default_factory=lambda: {"ingest": 8000, "router": 8001, "metrics": 8002, "delivery": 8003}
    )
    broker_kind: BrokerKind = "embedded"
    broker: Broker | None = None
    children: list[ServiceProcess] = field(default_factory=list)
    demo: ChildProcess | None = None
    env: dict[str, str] = field(default_factory=dict)
    policies: dict[str, RestartPolicy] = field(default_factory=dict)

    @property
    def log_dir(self) -> Path:
        return self.state_dir / "logs"

    def start_broker(self, say: Callable[[str], None]) -> str:
        external = os.environ.get("LEADRELAY_KAFKA_BOOTSTRAP")
        if external:
            say(f"using Kafka at {external} (LEADRELAY_KAFKA_BOOTSTRAP)")
            return external
        port = 9092 if not port_open("127.0.0.1", 9092) else free_port()
        broker: Broker
        if self.broker_kind == "kafka":
            # Data kept under the state dir, like the SQLite files: a restart resumes both.
            broker = ApacheKafkaBroker(
                port=port, log_path=self.log_dir / "kafka.log", data_dir=(self.state_dir / "kafka").resolve()
            )
        else:
            broker = EmbeddedBroker(port=port, log_path=self.log_dir / "broker.log")
        self.broker = broker
        broker.start()
        say(f"{broker.description} broker on {broker.bootstrap}")
        return broker.bootstrap

    def prepare(self, say: Callable[[str], None]) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
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
        if self.broker is not None and self.broker_kind == "embedded":
            # Tansu answers a consumer-group join only after half the session timeout: at the
            # 10 s default every service waits 5 s for its partitions at start (and after a
            # restart). Kafka's 6 s floor halves that; our own broker, so no shared group settings.
            self.env.setdefault("LEADRELAY_KAFKA_SESSION_TIMEOUT_MS", str(EMBEDDED_SESSION_TIMEOUT_MS))

    def start_services(self) -> None:
        for name in SERVICES:
            self.children.append(
                start_service(
                    name, self.env, self.log_dir, port=self.ports[name], cwd=None, die_with_parent=True
                )
            )

    def start_demo(self, args: list[str]) -> None:
        """The demo's progress bar goes to this terminal; it is not a service (its exit is no failure).

        Some signed vendor webhooks too, so a first run goes through every configured adapter."""
        argv = [sys.executable, "-m", "services", "demo", "--source", "all", "--per-source", "4", *args]
        self.demo = ChildProcess("demo", argv, env=self.env, inherit_output=True, die_with_parent=True)
        self.demo.start()

    def wait_ready(self, timeout_s: float = 90.0) -> None:
        try:
            wait_ready(self.children, timeout_s)
        except RuntimeError as exc:
            raise RuntimeError(f"{exc}; logs in {self.log_dir}") from None

    def supervise(self, say: Callable[[str], None]) -> None:
        """One round: restart a dead broker or service (with backoff); GaveUp after a crash loop.

        The broker is watched through its port (either kind): a broker that stopped listening is
        restarted on the same port. The embedded one comes back empty; the services notice and
        refill it (shared/kafka/reset.py)."""
        broker = self.broker
        if broker is not None and not port_open("127.0.0.1", int(broker.bootstrap.rsplit(":", 1)[1])):
            policy = self.policies.setdefault("broker", RestartPolicy())
            if policy.due():
                delay = policy.record("broker")
                say(
                    f"[yellow]the broker died[/]; restarting it on {broker.bootstrap} "
                    f"(next restart no sooner than {delay:.1f}s)"
                )
                broker.stop()  # reap what is left of it
                broker.start()
                say(f"broker back on {broker.bootstrap}")
        for index, service in enumerate(self.children):
            code = service.child.returncode
            if code is None:
                continue
            policy = self.policies.setdefault(service.name, RestartPolicy())
            if not policy.due():
                continue
            delay = policy.record(service.name)
            say(f"[yellow]{service.name} exited with code {code}[/]; restarting it (log: {service.log})")
            self.children[index] = start_service(
                service.name, self.env, self.log_dir, port=service.port, cwd=None, die_with_parent=True
            )
            say(
                f"{service.name} restarted (pid {self.children[index].pid}); "
                f"next restart no sooner than {delay:.1f}s"
            )

    def stop(self) -> None:
        if self.demo is not None:
            self.demo.stop(10.0)
            self.demo = None
        stop_all(list(reversed(self.children)), timeout_s=25.0)
        self.children.clear()
        if self.broker is not None:
            self.broker.stop()
            self.broker = None
