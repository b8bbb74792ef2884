"""The e2e tests' use of the dev stack (services/devstack): one API key, one environment per test."""

from __future__ import annotations

import os

from services.devstack import service_env

API_KEY = "e2e-key"
# Apache Kafka is in the run when asked for (LEADRELAY_TEST_KAFKA=1; .ci/run sets it), as in conftest.
KAFKA_WANTED = os.environ.get("LEADRELAY_TEST_KAFKA", "") not in ("", "0", "false", "no")


def e2e_env(bootstrap: str, database_url: str, prefix: str) -> dict[str, str]:
    return service_env(bootstrap, database_url, prefix, api_key=API_KEY)
