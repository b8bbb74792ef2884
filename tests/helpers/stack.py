"""The e2e tests' use of the dev stack (services/devstack): one API key, one environment per test."""

from __future__ import annotations

import os

from services.devstack import service_env

API_KEY = "e2e-key"
# The metrics reports need credentials: the same key, as the metrics service's env integration key.
METRICS_HEADERS = {"X-API-Key": API_KEY}
# Apache Kafka is in the run when asked for (LEADRELAY_TEST_KAFKA=1; .ci/run sets it), as in conftest.
KAFKA_WANTED = os.environ.get("LEADRELAY_TEST_KAFKA", "") not in ("", "0", "false", "no")


def e2e_env(bootstrap: str, database_url: str, prefix: str) -> dict[str, str]:
    env = service_env(bootstrap, database_url, prefix, api_key=API_KEY)
    # Kafka's shortest session: a killed service's partitions are handed over 4 s sooner than
    # with the default, and the crash tests kill services on purpose.
    return {**env, "LEADRELAY_METRICS_API_KEY": API_KEY, "LEADRELAY_KAFKA_SESSION_TIMEOUT_MS": "6000"}
