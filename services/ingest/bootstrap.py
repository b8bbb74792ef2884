"""The one place the ingest service is wired: settings, database, producer, HTTP app."""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from services.ingest.endpoints import post_activity, post_lead
from services.ingest.endpoints import router as api_router
from services.ingest.erasure import ErasureService
from services.ingest.erasure import router as erasure_router
from services.ingest.front_door import IngestApp
from services.ingest.journal import Journal
from services.ingest.lead_index import LeadIndex
from services.ingest.ledger import DeliveryLedger
from services.ingest.observability import RequestMetrics
from services.ingest.repository import DATABASE_DOWN
from services.ingest.service import IdempotencyConflict, IngestService, LeadNotFound
from services.ingest.settings import IngestSettings
from services.ingest.sqlite_repository import SqliteAcceptedRepository, sqlite_file
from services.ingest.webhooks.endpoints import post_webhook_at_front_door, webhooks_router
from services.ingest.webhooks.sources import ConfiguredSource, build_sources
from shared.config import LeadRelayConfig, load_config
from shared.db import create_engine, create_session_factory
from shared.events import Topics
from shared.http_ops import database_ready, install_error_handlers, ops_router
from shared.kafka import BrokerUnavailable, EventProducer
from shared.kafka.reset import BrokerResetWatcher
from shared.logging import get_logger
from shared.runtime import BackgroundLoops, is_transient_failure, prepare_service, service_producer

log = get_logger(__name__)


@dataclass
class IngestRuntime:
    settings: IngestSettings
    engine: AsyncEngine
    producer: EventProducer
    ledger: DeliveryLedger
    service: IngestService
    sources: dict[str, ConfiguredSource]
    journal: Journal | None
    watcher: BrokerResetWatcher | None
    erasures: ErasureService

    async def readiness(self) -> dict[str, bool]:
        return {"database": await database_ready(self.engine), "broker": await self.producer.healthy()}


def bootstrap(settings: IngestSettings | None = None, config: LeadRelayConfig | None = None) -> IngestRuntime:
    settings = settings or IngestSettings()
    common = settings.common
    config = config or load_config(common.config)
    topics = Topics(common.topic_prefix)
    engine = create_engine(settings.effective_database_url)
    producer = service_producer(common, "leadrelay-ingest")
    ledger = DeliveryLedger(
        create_session_factory(engine), timedelta(hours=settings.idempotency_retention_hours)
    )
    sqlite_path = sqlite_file(engine.url)
    journal = (
        Journal(
            create_session_factory(engine),
            timedelta(hours=settings.journal_hours),
            SqliteAcceptedRepository(sqlite_path) if sqlite_path else None,
        )
        if settings.journal_hours
        else None
    )
    service = IngestService(producer, ledger, topics, journal, LeadIndex(create_session_factory(engine)))
    sources = build_sources(config, dev=common.is_dev)
    watcher = (
        BrokerResetWatcher(
            "ingest",
            common.kafka_bootstrap,
            producer,
            topics.all(),
            common.kafka_partitions,
            lambda: journal.republish(producer),
            control_prefix=common.topic_prefix,
            is_transient=is_transient_failure,
        )
        if journal is not None
        else None
    )
    erasures = ErasureService(create_session_factory(engine), producer, topics, journal)
    return IngestRuntime(settings, engine, producer, ledger, service, sources, journal, watcher, erasures)


async def purge_loop(runtime: IngestRuntime, stop: asyncio.Event, every_s: float = 3600) -> None:
    """Forget deliveries past the retry span and journal entries past the republish window, hourly;
    a failed purge waits for the next round."""
    while not stop.is_set():
        try:
            forgotten = await runtime.ledger.purge()
            journaled = await runtime.journal.purge() if runtime.journal else 0
            log.info("ingest_purged", deliveries=forgotten, journal=journaled)
        except DATABASE_DOWN as exc:
            log.warning("deliveries_purge_failed", error=repr(exc))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every_s)


def freeze_startup_heap() -> None:
    """Move everything alive after start-up (modules, schemas, compiled statements, the ledger's
    fingerprints) out of the garbage collector's way. Profiled under bench/ingest.py: the full
    collections that walked this heap over and over were ~20% of a request's CPU and set the P99
    (0.30 -> 0.23 ms per request, P99 89 -> 18 ms). Nothing frozen is garbage: it is collected
    first, and what start-up keeps lives as long as the process."""
    gc.collect()
    gc.freeze()


def tune_collector(young_threshold: int) -> tuple[int, int, int]:
    """Collect the young generation after `young_threshold` allocations instead of 700; returns the
    thresholds to restore. A request keeps ~30 container objects alive while it waits on the broker
    and the database, so with 32 in flight the young count reached 700 every ~24 requests and each
    young collection walked ~1,000 live objects: under bench/ingest.py's signed deliveries, 626
    young collections per 12,000 requests, ~12 us of collector time a request (~4% of its CPU);
    at 10,000, 3 collections, ~0.5 us. What dies young is freed by reference counting anyway; only
    cyclic garbage waits longer, a few MB at most."""
    before = gc.get_threshold()
    if young_threshold:  # 0: the interpreter's
        gc.set_threshold(young_threshold, before[1], before[2])
    return before


def create_app(runtime: IngestRuntime) -> FastAPI:
    settings = runtime.settings
    loops = BackgroundLoops()

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await prepare_service(runtime.engine, "ingest", settings.common)
        try:
            await runtime.producer.start()
        except BrokerUnavailable as exc:
            log.warning("broker_unavailable_at_start", error=str(exc))  # writes answer 503 until it is back
        try:
            log.info("delivery_ledger_loaded", keys=await runtime.ledger.load())
        except DATABASE_DOWN as exc:  # the ledger tries again on lookups, every few seconds
            log.warning("delivery_ledger_not_loaded", error=repr(exc))
        loops.start("ingest-purge", lambda stop: purge_loop(runtime, stop))
        if runtime.watcher is not None:
            await runtime.watcher.first_check()
            loops.start("ingest-broker-reset", runtime.watcher.run)
        if settings.freeze_heap:
            freeze_startup_heap()
        thresholds = tune_collector(settings.gc_young_threshold)
        try:
            yield
        finally:
            gc.set_threshold(*thresholds)
            gc.unfreeze()  # a process that starts apps again (the tests) keeps its heap collectable
            await loops.shutdown()
            for source in runtime.sources.values():
                if source.graph is not None:
                    await source.graph.aclose()
            await runtime.producer.stop()
            if runtime.journal is not None:
                await runtime.journal.close()
            await runtime.engine.dispose()

    app = IngestApp(title="LeadRelay ingest", version="0.1.0", lifespan=lifespan)
    app.state.settings = settings
    app.state.ingest = runtime.service
    app.state.sources = runtime.sources
    app.state.erasures = runtime.erasures
    retry_after = {"Retry-After": str(settings.retry_after_s)}

    @app.exception_handler(BrokerUnavailable)
    async def _broker_down(_: Request, exc: BrokerUnavailable) -> JSONResponse:
        return JSONResponse(
            {"detail": "the event broker cannot take the write now; retry later"},
            status_code=503,
            headers=retry_after,
        )

    @app.exception_handler(IdempotencyConflict)
    async def _key_reused(_: Request, exc: IdempotencyConflict) -> JSONResponse:
        detail = (
            f"Idempotency-Key {exc.key!r} was already used with a different body; "
            "use a new key for a new request"
        )
        return JSONResponse(
            {
                "detail": [
                    {"loc": ["header", "Idempotency-Key"], "msg": detail, "type": "idempotency_key_reused"}
                ]
            },
            status_code=422,
        )

    @app.exception_handler(LeadNotFound)
    async def _no_such_lead(_: Request, exc: LeadNotFound) -> JSONResponse:
        return JSONResponse({"detail": "no lead was captured with that email; send lead_id"}, status_code=404)

    @app.exception_handler(SQLAlchemyError)
    async def _database_down(_: Request, exc: SQLAlchemyError) -> JSONResponse:
        log.warning("database_error", error=repr(exc))
        return JSONResponse(
            {"detail": "the database is unavailable; retry later"}, status_code=503, headers=retry_after
        )

    install_error_handlers(app)
    app.include_router(ops_router(runtime.readiness))
    app.include_router(api_router)
    app.include_router(erasure_router)
    known = frozenset(runtime.sources)
    app.add_middleware(RequestMetrics, known_sources=known)  # what the front door does not serve
    app.include_router(webhooks_router(list(runtime.sources)))
    front = {"/v1/leads": post_lead, "/v1/activities": post_activity}
    app.serve_at_front_door(front, post_webhook_at_front_door, known)
    return app
