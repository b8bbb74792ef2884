"""One child process of the dev stack: started in its own session, waited for, stopped as a group.

The embedded broker, Apache Kafka, the services under `leadrelay up`, the e2e tests and the bench
all start children this one way, so "ready", "stop" and "what did it print" mean the same everywhere.
A child runs in its own session (process group) so that SIGTERM/SIGKILL reach its own children
too (a JVM's, a uvicorn's), and a terminal's Ctrl-C reaches only the supervisor, which then
stops the children in order.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

# Ports handed out below the kernel's ephemeral range (32768+ on Linux), so an outgoing
# connection can never take one between our check and the child's bind, and never the same
# port twice in one process, so two children started back to back (or a leaked child of an
# earlier test) can never end up answering on each other's port.
_PORT_RANGE = (20000, 32768)
_handed_out: set[int] = set()
_port_lock = threading.Lock()


def free_port() -> int:
    """A port nothing listens on now and this process has not handed out before."""
    low, high = _PORT_RANGE
    with _port_lock:
        for _ in range(high - low):
            port = random.randrange(low, high)  # noqa: S311 - spreading ports, not a secret
            if port in _handed_out:
                continue
            with socket.socket() as sock:
                try:
                    sock.bind(("127.0.0.1", port))
                except OSError:
                    continue
            _handed_out.add(port)
            return port
    raise RuntimeError(f"no free port left in {low}-{high - 1}: stop the stray processes holding them")


def port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.2):
            return True
    except OSError:
        return False


def _die_with_parent() -> None:  # runs in the child between fork and exec
    if sys.platform.startswith("linux"):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class ChildProcess:
    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        log_path: Path | None = None,
        inherit_output: bool = False,
        die_with_parent: bool = False,
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.env = dict(env) if env is not None else None
        self.cwd = cwd
        self.log_path = log_path
        # No log file: the output is discarded, unless it is meant for the terminal (the demo's progress).
        self.inherit_output = inherit_output
        # A supervisor (`leadrelay up`, pytest) that dies must not leave its children running. Linux
        # signals the child when the *thread* that started it exits: start children from a thread
        # that lives as long as they should (all callers here use the main thread).
        self.die_with_parent = die_with_parent
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    @property
    def returncode(self) -> int | None:
        """None while running (or never started); the exit code once it has exited."""
        return self.proc.poll() if self.proc else None

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self) -> None:
        out: int | object | None = None if self.inherit_output else subprocess.DEVNULL
        if self.log_path is not None:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            out = self.log_path.open("ab")
        try:
            self.proc = subprocess.Popen(
                self.argv,
                env=self.env,
                cwd=self.cwd,
                stdout=out,  # type: ignore[arg-type]
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_die_with_parent if self.die_with_parent else None,
            )
        finally:
            if hasattr(out, "close"):
                out.close()  # the child holds its own descriptor

    def log_tail(self, chars: int = 3000) -> str:
        if self.log_path is None or not self.log_path.exists():
            return "(no log)"
        return self.log_path.read_text(errors="replace")[-chars:]

    def wait_until(self, ready: Callable[[], bool], timeout_s: float, what: str) -> None:
        """Poll `ready` until true; raise (with the log's tail) if the child exits or time runs out."""
        deadline = time.monotonic() + timeout_s
        while not ready():
            if (code := self.returncode) is not None:
                raise RuntimeError(
                    f"{self.name} exited with code {code} before {what}; see {self.log_path}\n"
                    f"{self.log_tail()}"
                )
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"{self.name}: {what} not reached in {timeout_s:.0f}s; see {self.log_path}"
                )
            time.sleep(0.05)

    def terminate(self) -> None:
        """SIGTERM the group without waiting (so several children can stop in parallel)."""
        if self.running():
            assert self.proc is not None
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)

    def wait(self, timeout_s: float) -> int | None:
        """Wait for exit, SIGKILL the group if it lingers; the exit code (None if never started)."""
        if self.proc is None:
            return None
        try:
            return self.proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.kill()
            return self.proc.wait()

    def stop(self, timeout_s: float = 30.0) -> int | None:
        self.terminate()
        return self.wait(timeout_s)

    def kill(self) -> None:
        """SIGKILL the whole group, as a crash would."""
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
