"""`leadrelay up --demo`: the whole stack from one command, and nothing left running after Ctrl-C/SIGTERM."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from shared.kafka.embedded import free_port, port_open
from tests.e2e.processes import ROOT

pytestmark = [pytest.mark.e2e, pytest.mark.kafka, pytest.mark.db]


def _wait_for(predicate: object, timeout_s: float, what: str, log: Path) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"{what} not reached; output:\n{log.read_text()[-4000:]}"
        time.sleep(0.2)


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_up_runs_everything_and_stops_everything(tmp_path: Path, stop_signal: signal.Signals) -> None:
    ports = {"INGEST": free_port(), "ROUTER": free_port(), "METRICS": free_port()}
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEADRELAY_")}
    env.update({f"LEADRELAY_{name}_PORT": str(port) for name, port in ports.items()})
    env["LEADRELAY_CONFIG"] = str(ROOT / "examples" / "leadrelay.yaml")
    out = tmp_path / "up.out"
    proc = subprocess.Popen(
        [sys.executable, "-m", "services", "up", "--demo", "--demo-leads", "12"],
        cwd=tmp_path,
        env=env,
        stdout=out.open("wb"),
        stderr=subprocess.STDOUT,
    )
    try:
        _wait_for(lambda: "ready in" in out.read_text(), 90, "readiness", out)
        metrics = f"http://127.0.0.1:{ports['METRICS']}/v1/funnel"
        _wait_for(
            lambda: httpx.get(metrics, timeout=5).json()["total"] == 12,
            60,
            "12 demo leads in the funnel",
            out,
        )
        for service in ("ingest", "router", "metrics"):  # SQLite under ./.leadrelay/, a file per service
            assert (tmp_path / ".leadrelay" / f"{service}.db").exists()
        broker_port = int(re.search(r"broker .* on 127\.0\.0\.1:(\d+)", out.read_text()).group(1))  # type: ignore[union-attr]
        proc.send_signal(stop_signal)
        assert proc.wait(60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    text = out.read_text()
    assert "nothing left running" in text
    for port in [*ports.values(), broker_port]:
        assert not port_open("127.0.0.1", port), f"something still listens on {port}"
