"""Candidate: the real ingest app, wired by its own bootstrap, configured from BENCH_* variables.

Run with `python -m uvicorn bench.serve_ingest:create_app --factory`; answers 202 only after
the broker acknowledged the write (acks=all).
"""

from __future__ import annotations

import os

from fastapi import FastAPI
from pydantic import SecretStr

from services.ingest.bootstrap import bootstrap
from services.ingest.bootstrap import create_app as create_ingest_app
from services.ingest.settings import IngestSettings
from shared.logging import configure_logging
from shared.settings import CommonSettings


def create_app() -> FastAPI:
    settings = IngestSettings(
        common=CommonSettings(
            kafka_bootstrap=os.environ["BENCH_KAFKA_BOOTSTRAP"],
            database_url=os.environ["BENCH_DATABASE_URL"],
            topic_prefix=os.environ["BENCH_TOPIC_PREFIX"],
        ),
        api_key=SecretStr(os.environ["BENCH_API_KEY"]),
    )
    configure_logging(settings.common.log_level, settings.common.log_format, service="ingest")
    return create_ingest_app(bootstrap(settings))
