"""The real ingest app (bench/serve_ingest.py) with parts stubbed out, for bench/ingest_ablation.py.

BENCH_ABLATE is a comma list of: `produce` (publish returns at once, no broker round trip), `sqlite` (the
after-ack batch and the ledger write return at once), `metrics` (the request-metrics middleware passes
through, as do the front door's answer counter and latency histogram); and `rdkafka`, not a stub: the
producer is librdkafka's (bench/rdkafka_producer.py) instead of aiokafka's, everything else as shipped.
Only for measuring what each part costs: a stubbed app acknowledges what it did not store.
"""

from __future__ import annotations

import os
from typing import Any

from fastapi import FastAPI

import services.ingest.bootstrap as ingest_bootstrap
import services.ingest.front_door as front_door
from bench.rdkafka_producer import RdKafkaProducer
from bench.serve_ingest import create_app as create_ingest_app
from services.ingest.journal import Journal
from services.ingest.lead_index import LeadIndex
from services.ingest.ledger import DeliveryLedger
from shared.kafka.producer import EventProducer, OutgoingMessage
from shared.settings import CommonSettings


class _PassThrough:
    def __init__(self, app: Any, **_: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)


class _NoMetric:
    def labels(self, *_: Any) -> _NoMetric:
        return self

    def inc(self, *_: Any) -> None:
        return None

    def observe(self, *_: Any) -> None:
        return None


async def _nothing(*_: Any, **__: Any) -> None:
    return None


def create_app() -> FastAPI:
    ablate = set(filter(None, os.environ.get("BENCH_ABLATE", "").split(",")))
    if "rdkafka" in ablate:

        def rdkafka_producer(common: CommonSettings, client_id: str) -> RdKafkaProducer:
            return RdKafkaProducer(
                common.kafka_bootstrap,
                client_id=client_id,
                request_timeout_ms=common.kafka_request_timeout_ms,
                send_timeout_s=common.kafka_send_timeout_s,
            )

        ingest_bootstrap.service_producer = rdkafka_producer  # type: ignore[attr-defined,assignment]
    if "produce" in ablate:

        async def publish(self: EventProducer, message: OutgoingMessage) -> None:
            return None

        EventProducer.publish = publish  # type: ignore[method-assign]
    if "sqlite" in ablate:
        Journal.append = _nothing  # type: ignore[method-assign]
        LeadIndex.remember = _nothing  # type: ignore[method-assign]
        DeliveryLedger.remember = _nothing  # type: ignore[method-assign]
    if "metrics" in ablate:
        ingest_bootstrap.RequestMetrics = _PassThrough  # type: ignore[attr-defined,assignment]
        front_door._ANSWERS = _NoMetric()  # type: ignore[assignment]
        front_door.LATENCY = _NoMetric()  # type: ignore[attr-defined,assignment]
    return create_ingest_app()
