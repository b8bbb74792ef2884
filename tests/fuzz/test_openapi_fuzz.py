"""Every service's OpenAPI, fuzzed by schemathesis against the running service (real broker,
real database): no input yields a 5xx, every response conforms to the documented schema, and
schema-valid requests are not refused. Coverage, fuzzing and stateful phases, bounded in time."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from services.devstack import ServiceProcess, start_service, stop_all, wait_ready
from shared.kafka.embedded import EmbeddedBroker
from tests.helpers.stack import API_KEY, e2e_env

pytestmark = [pytest.mark.e2e, pytest.mark.kafka, pytest.mark.db]

ST = Path(sys.executable).with_name("st")
ROOT = Path(__file__).resolve().parents[2]
SECONDS = {"ingest": 40, "router": 10, "metrics": 30, "delivery": 15}


@pytest.fixture(scope="module")
def embedded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedBroker]:
    broker = EmbeddedBroker(log_path=tmp_path_factory.mktemp("fuzz-broker") / "broker.log")
    broker.start()
    yield broker
    broker.stop()


@pytest.fixture(params=list(SECONDS))
def target(
    request: pytest.FixtureRequest, embedded: EmbeddedBroker, tmp_path: Path
) -> Iterator[ServiceProcess]:
    name = str(request.param)
    env = e2e_env(embedded.bootstrap, f"sqlite+aiosqlite:///{tmp_path / 'fuzz.db'}", f"fuzz-{name}.")
    env["LEADRELAY_DELIVERY_API_KEY"] = API_KEY
    env["LEADRELAY_INGEST_ADMIN_API_KEY"] = API_KEY  # so the fuzzer gets past 401 on /v1/erasures too
    service = start_service(name, env, tmp_path)
    try:
        wait_ready([service])
        yield service
    finally:
        stop_all([service])


def test_openapi_fuzzing_finds_nothing(target: ServiceProcess) -> None:
    service = target.name
    result = subprocess.run(
        [
            str(ST),
            "run",
            f"{target.url}/openapi.json",
            "--checks",
            "all",
            "--phases",
            "examples,coverage,fuzzing,stateful",
            "--max-time",
            str(SECONDS[service]),
            "--workers",
            "1",
            "--header",
            f"X-API-Key: {API_KEY}",
            "--seed",
            "20261124",
        ],
        capture_output=True,
        text=True,
        timeout=SECONDS[service] * 4 + 60,
        env={
            **os.environ,
            "SCHEMATHESIS_HOOKS": "tests.fuzz.st_hooks",
            "PYTHONPATH": str(ROOT),
            "NO_COLOR": "1",
        },
        cwd=ROOT,
        check=False,
    )
    report = result.stdout[-6000:] + result.stderr[-2000:]
    assert result.returncode == 0, f"schemathesis found problems in {service}:\n{report}"
    assert "generated" in result.stdout  # it did run test cases
