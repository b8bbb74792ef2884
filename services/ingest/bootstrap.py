"""The one place the ingest service is wired: settings, database, producer, HTTP app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from services.ingest.endpoints import router as api_router
from services.ingest.service import IngestService
from services.ingest.settings import IngestSettings
from shared.db import create_engine, create_session_factory
from shared.events import Topics
from shared.http_ops import database_ready, ops_router
from shared.kafka import BrokerUnavailable, EventProducer
from shared.logging import get_logger
from shared.runtime import prepare_service, service_producer

log = get_logger(__name__)


@dataclass
class IngestRuntime:
    settings: IngestSettings
    engine: AsyncEngine
    producer: EventProducer
    service: IngestService

    async def readiness(self) -> dict[str, bool]:
        return {"database": await database_ready(self.engine), "broker": await self.producer.healthy()}


def bootstrap(settings: IngestSettings | None = None) -> IngestRuntime:
    settings = settings or IngestSettings()
    common = settings.common
    topics = Topics(common.topic_prefix)
    engine = create_engine(settings.effective_database_url)
    producer = service_producer(common, "leadrelay-ingest")
    service = IngestService(producer, create_session_factory(engine), topics)
    return IngestRuntime(settings, engine, producer, service)


def create_app(runtime: IngestRuntime) -> FastAPI:
    settings = runtime.settings

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await prepare_service(runtime.engine, "ingest", settings.common)
        try:
            await runtime.producer.start()
        except BrokerUnavailable as exc:
            log.warning("broker_unavailable_at_start", error=str(exc))  # writes answer 503 until it is back
        try:
            yield
        finally:
            await runtime.producer.stop()
            await runtime.engine.dispose()

    app = FastAPI(title="LeadRelay ingest", version="0.1.0", lifespan=lifespan)
    app.state.settings = settings
    app.state.ingest = runtime.service
    retry_after = {"Retry-After": str(settings.retry_after_s)}

    @app.exception_handler(BrokerUnavailable)
    async def _broker_down(_: Request, exc: BrokerUnavailable) -> JSONResponse:
        return JSONResponse(
            {"detail": "the event broker cannot take the write now; retry later"},
            status_code=503,
            headers=retry_after,
        )

    @app.exception_handler(SQLAlchemyError)
    async def _database_down(_: Request, exc: SQLAlchemyError) -> JSONResponse:
        log.warning("database_error", error=repr(exc))
        return JSONResponse(
            {"detail": "the database is unavailable; retry later"}, status_code=503, headers=retry_after
        )

    app.include_router(ops_router(runtime.readiness))
    app.include_router(api_router)
    return app
