"""`leadrelay up --demo`: the whole stack from one command, and nothing left running after Ctrl-C/SIGTERM.

On the embedded broker always; on Apache Kafka (`--broker kafka`) when the run has it
(LEADRELAY_TEST_KAFKA=1). Without Java or the jars, `--broker kafka` says what to do and starts nothing.
"""

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

from services.devstack import ROOT, free_port, port_open
from tests.helpers.stack import API_KEY as METRICS_KEY
from tests.helpers.stack import KAFKA_WANTED

pytestmark = [pytest.mark.e2e, pytest.mark.kafka, pytest.mark.db]
CASES = [("embedded", signal.SIGINT), ("embedded", signal.SIGTERM)]
CASES += [("kafka", signal.SIGTERM)] if KAFKA_WANTED else []


def _wait_for(predicate: object, timeout_s: float, what: str, log: Path) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"{what} not reached; output:\n{log.read_text()[-4000:]}"
        time.sleep(0.2)


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEADRELAY_")}
    env["LEADRELAY_CONFIG"] = str(ROOT / "examples" / "leadrelay.yaml")
    env.update(extra)
    return env


@pytest.mark.parametrize(
    ("broker_kind", "stop_signal"), CASES, ids=[f"{b}-{signal.Signals(s).name}" for b, s in CASES]
)
def test_up_runs_everything_and_stops_everything(
    tmp_path: Path, broker_kind: str, stop_signal: signal.Signals
) -> None:
    ports = {name: free_port() for name in ("INGEST", "ROUTER", "METRICS", "DELIVERY")}
    env = _env(**{f"LEADRELAY_{name}_PORT": str(port) for name, port in ports.items()})
    env["LEADRELAY_METRICS_API_KEY"] = METRICS_KEY  # the reports need credentials
    out = tmp_path / "up.out"
    command = [sys.executable, "-m", "services", "up", "--demo", "--demo-leads", "12"]
    proc = subprocess.Popen(
        [*command, "--broker", broker_kind],
        cwd=tmp_path,
        env=env,
        stdout=out.open("wb"),
        stderr=subprocess.STDOUT,
    )
    try:
        _wait_for(lambda: "ready in" in out.read_text(), 90, "readiness", out)
        metrics = f"http://127.0.0.1:{ports['METRICS']}/v1/funnel"
        # 12 canonical leads, plus the signed vendor webhooks the demo posts to each configured source.
        _wait_for(lambda: re.search(r"posted (\d+) leads", out.read_text()), 60, "the demo's summary", out)
        posted = int(re.search(r"posted (\d+) leads", out.read_text()).group(1))  # type: ignore[union-attr]
        assert posted >= 12
        _wait_for(
            lambda: (
                httpx.get(metrics, headers={"X-API-Key": METRICS_KEY}, timeout=5).json()["total"] == posted
            ),
            60,
            f"{posted} demo leads in the funnel",
            out,
        )
        for service in ("ingest", "router", "metrics"):  # SQLite under ./.leadrelay/, a file per service
            assert (tmp_path / ".leadrelay" / f"{service}.db").exists()
        text = out.read_text()
        assert "sign in: admin / changeme" in text  # dev: `up` says how to log in to the dashboard
        broker_port = int(re.search(r"broker on 127\.0\.0\.1:(\d+)", text).group(1))  # type: ignore[union-attr]
        assert ("Apache Kafka" in text) is (broker_kind == "kafka"), text
        proc.send_signal(stop_signal)
        assert proc.wait(60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    text = out.read_text()
    assert "nothing left running" in text
    for port in [*ports.values(), broker_port]:
        assert not port_open("127.0.0.1", port), f"something still listens on {port}"
    if broker_kind == "kafka":  # its data is kept next to the SQLite files, for the next `up`
        assert (tmp_path / ".leadrelay" / "kafka" / "log" / "meta.properties").exists()


@pytest.mark.parametrize("missing", ["java", "jars"])
def test_up_on_kafka_without_java_or_jars_says_how_to_fix_it(tmp_path: Path, missing: str) -> None:
    if missing == "java":  # no JAVA_HOME, and a PATH without java (the CLI itself runs by absolute path)
        env = _env(PATH=str(tmp_path), LEADRELAY_KAFKA_JARS=str(tmp_path))
        env.pop("JAVA_HOME", None)
        expected = "needs Java 17+"
    else:
        env = _env(LEADRELAY_KAFKA_JARS=str(tmp_path / "no-jars-here"))
        expected = "make kafka-jars"
    result = subprocess.run(
        [sys.executable, "-m", "services", "up", "--broker", "kafka"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    message = " ".join(result.stderr.split())  # Rich wraps long lines
    assert expected in message, result.stderr
    assert not (tmp_path / ".leadrelay").exists(), "nothing should have started"
