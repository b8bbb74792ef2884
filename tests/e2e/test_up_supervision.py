"""`leadrelay up` restarts a child that dies (kill -9 of the router, then of the embedded broker)
and the stack keeps routing: a lead posted after both crashes reaches the handoff topic."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from services.devstack import ROOT, free_port
from shared.events import CloudEvent, Topics
from tests.helpers.kafka_tools import read_until

pytestmark = [pytest.mark.e2e, pytest.mark.kafka, pytest.mark.db]


def _children(parent: int) -> dict[int, str]:
    """pid -> command line of every process whose parent is `parent`."""
    found: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == parent:
            found[int(entry.name)] = cmdline
    return found


def _pid(parent: int, needle: str) -> int:
    matches = [pid for pid, cmd in _children(parent).items() if needle in cmd]
    assert matches, f"no child of {parent} runs {needle!r}: {_children(parent)}"
    return matches[0]


def _wait(predicate: object, timeout_s: float, what: str, out: Path) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"{what} not reached; output:\n{out.read_text()[-4000:]}"
        time.sleep(0.2)


def _ready(url: str) -> bool:
    try:
        return httpx.get(f"{url}/readyz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def test_up_restarts_a_killed_router_and_a_killed_broker(tmp_path: Path) -> None:
    ports = {name: free_port() for name in ("INGEST", "ROUTER", "METRICS", "DELIVERY")}
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEADRELAY_")}
    env |= {f"LEADRELAY_{name}_PORT": str(port) for name, port in ports.items()}
    env |= {
        "LEADRELAY_CONFIG": str(ROOT / "examples" / "leadrelay.yaml"),
        "LEADRELAY_INGEST_API_KEY": "up-key",
    }
    out = tmp_path / "up.out"
    up = subprocess.Popen(
        [sys.executable, "-m", "services", "up"],
        cwd=tmp_path,
        env=env,
        stdout=out.open("wb"),
        stderr=subprocess.STDOUT,
    )
    ingest, router = f"http://127.0.0.1:{ports['INGEST']}", f"http://127.0.0.1:{ports['ROUTER']}"
    try:
        _wait(lambda: "ready in" in out.read_text(), 120, "the stack ready", out)
        bootstrap = re.search(r"broker on (127\.0\.0\.1:\d+)", out.read_text())
        assert bootstrap, out.read_text()

        os.kill(_pid(up.pid, "services router"), signal.SIGKILL)
        _wait(lambda: "router exited with code -9" in out.read_text(), 30, "the router's death noticed", out)
        _wait(lambda: "router restarted" in out.read_text(), 30, "the router restarted", out)
        _wait(lambda: _ready(router), 60, "the new router ready", out)

        os.kill(_pid(up.pid, "tansu"), signal.SIGKILL)
        _wait(lambda: "the broker died" in out.read_text(), 30, "the broker's death noticed", out)
        _wait(lambda: "broker back on" in out.read_text(), 30, "the broker restarted", out)

        lead = {"lead_id": "after-crashes", "email": "grace@navy.example", "employees": 900, "country": "US"}
        _wait(
            lambda: (
                httpx.post(
                    f"{ingest}/v1/leads", json=lead, headers={"X-API-Key": "up-key"}, timeout=10
                ).status_code
                in (200, 202)
            ),
            60,
            "ingest accepting again",
            out,
        )
        records = asyncio.run(
            read_until(
                bootstrap.group(1),
                Topics().handoffs,
                lambda rs: any(CloudEvent.from_bytes(r.value).subject == "after-crashes" for r in rs),
                timeout_s=60,
            )
        )
        assert any(CloudEvent.from_bytes(r.value).subject == "after-crashes" for r in records)
        assert up.poll() is None, "up gave up instead of restarting"
    finally:
        up.send_signal(signal.SIGTERM)
        code = up.wait(60)
    text = out.read_text()
    print(
        "\n".join(
            line for line in text.splitlines() if "restart" in line or "died" in line or "back on" in line
        )
    )
    assert code == 0, text[-3000:]
