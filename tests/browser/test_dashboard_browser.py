"""The ops dashboard in a real browser: headless Debian Chromium driven by playwright-core (Node).

The whole stack runs as processes (services/devstack) on the embedded broker while a feeder posts
leads and first touches; tests/browser/dashboard.mjs logs in as an admin and as a viewer and checks
the live SLA board, the charts, masking and the console. Screenshots land in the test's artifacts
(.leadrelay/artifacts/browser/). Needs /usr/bin/chromium and Node's npm: `.ci/run` installs both.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from services.devstack import ROOT, ServiceProcess, start_service, stop_all, wait_ready
from services.metrics.auth.service import set_user
from shared.db import create_engine, create_session_factory
from shared.kafka.brokers import Broker
from tests.helpers.stack import API_KEY, e2e_env

CHROMIUM = os.environ.get("LEADRELAY_CHROMIUM", "/usr/bin/chromium")
HERE = Path(__file__).resolve().parent
NODE_DIR = ROOT / ".leadrelay" / "node"
ARTIFACTS = ROOT / ".leadrelay" / "artifacts" / "browser"
ADMIN, VIEWER = ("admin", "admin-browser-1"), ("olga", "viewer-browser-1")

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(),
        reason=f"no Chromium at {CHROMIUM}: the dashboard browser tests need it; "
        "install it with `apt-get install -y chromium` (.ci/run does) or set LEADRELAY_CHROMIUM",
    ),
    pytest.mark.skipif(
        shutil.which("node") is None or shutil.which("npm") is None,
        reason="Node.js and npm are needed to drive Chromium (playwright-core); install nodejs and npm",
    ),
]


def _feed(ingest: str, stop: threading.Event) -> None:
    """Demo-like traffic: a lead every 0.4 s; a first touch for most leads a few seconds later."""
    headers = {"X-API-Key": API_KEY}
    pending: list[tuple[float, str]] = []
    n, deadline = 0, time.monotonic() + 170
    with httpx.Client(base_url=ingest, headers=headers, timeout=5) as client:
        while not stop.is_set() and time.monotonic() < deadline:
            n += 1
            lead = {
                "email": f"buyer{n}@company{n % 7}.example",
                "first_name": f"Buyer{n}",
                "last_name": "Example",
                "phone": f"+1 555 01{n % 100:02d}",
                "company": f"Company {n % 7}",
                "employees": 300 + 50 * (n % 10),
                "country": "US" if n % 3 else "DE",
            }
            answer = client.post("/v1/leads", json=lead)
            if answer.status_code == 202 and n % 4:  # every fourth lead is left untouched: it breaches
                pending.append((time.monotonic() + 3 + n % 5, answer.json()["lead_id"]))
            for due, lead_id in [p for p in pending if p[0] <= time.monotonic()]:
                pending.remove((due, lead_id))
                client.post(
                    "/v1/activities", json={"lead_id": lead_id, "kind": "first_touch", "channel": "call"}
                )
            stop.wait(0.4)


@pytest.fixture
def stack(broker: Broker, topic_prefix: str, tmp_path: Path) -> Iterator[dict[str, str]]:
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'leadrelay.db'}"
    env = {
        **e2e_env(broker.bootstrap, database_url, topic_prefix),
        "LEADRELAY_METRICS_ADMIN_PASSWORD": ADMIN[1],
        **{
            f"LEADRELAY_{s.upper()}_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / s}.db"
            for s in ("ingest", "router", "metrics")
        },
    }
    services: list[ServiceProcess] = [
        start_service(n, env, tmp_path) for n in ("metrics", "router", "ingest")
    ]
    stop = threading.Event()
    try:
        wait_ready(services)
        asyncio.run(_add_viewer(env["LEADRELAY_METRICS_DATABASE_URL"]))
        feeder = threading.Thread(target=_feed, args=(services[2].url, stop), daemon=True)
        feeder.start()
        yield {"metrics": services[0].url}
    finally:
        stop.set()
        stop_all(services)


async def _add_viewer(url: str) -> None:
    engine = create_engine(url)
    try:
        await set_user(create_session_factory(engine), *VIEWER, "viewer")
    finally:
        await engine.dispose()


@pytest.mark.timeout(420)  # install, and up to two browser runs of 150 s
def test_dashboard_in_chromium(stack: dict[str, str]) -> None:
    subprocess.run([str(HERE / "install.sh"), str(NODE_DIR)], check=True, timeout=300)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "CHROMIUM": CHROMIUM,
        "PLAYWRIGHT_CORE": str(NODE_DIR / "driver.js"),  # resolve playwright-core from the pinned install
        "ADMIN_USER": ADMIN[0],
        "ADMIN_PASSWORD": ADMIN[1],
        "VIEWER_USER": VIEWER[0],
        "VIEWER_PASSWORD": VIEWER[1],
    }
    # One more attempt if the first fails: a headless browser's first launch on a cold CI machine has
    # been seen to fail once in several runs. The first failure is printed, never hidden; the
    # assertions below hold for the attempt that counts.
    for attempt in (1, 2):
        run = subprocess.run(
            ["node", str(HERE / "dashboard.mjs"), stack["metrics"], str(ARTIFACTS)],
            env=env,
            capture_output=True,
            text=True,
            timeout=150,
        )
        if run.returncode == 0:
            break
        failed = f"{run.stdout[-3000:]}\n{run.stderr[-3000:]}"
        print(f"browser attempt {attempt} failed:\n{failed}", file=sys.stderr)
    lines = [line for line in run.stdout.splitlines() if line.startswith("{")]
    findings = json.loads(lines[-1]) if lines else {}
    assert run.returncode == 0, f"browser checks failed: {findings or run.stdout}\n{run.stderr[-3000:]}"
    passed = {c["what"] for c in findings["checks"] if c["ok"]}
    assert {
        "the SLA board updated without a reload",
        "every chart renders with data",
        "a viewer sees masked emails",
        "the console shows no errors",
    } <= passed
    for shot in ("dashboard-admin.png", "dashboard-viewer.png"):
        assert (ARTIFACTS / shot).stat().st_size > 10_000
