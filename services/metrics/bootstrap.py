"""The one place the metrics service is wired: database, Kafka consumer, HTTP API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from services.metrics.endpoints import router as api_router
from services.metrics.handlers import metrics_dispatcher
from services.metrics.settings import MetricsSettings
from shared.db import create_engine, create_session_factory
from shared.events import Topics
from shared.http_ops import database_ready, ops_router
from shared.kafka import ConsumerLoop, EventProducer
from shared.runtime import BackgroundLoops, prepare_service, service_consumer, service_producer


@dataclass
class MetricsService:
    settings: MetricsSettings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    dead_letters: EventProducer
    consumer: ConsumerLoop

    async def readiness(self) -> dict[str, bool]:
        return {"database": await database_ready(self.engine), "consumer": self.consumer.ready.is_set()}


def bootstrap(settings: MetricsSettings | None = None) -> MetricsService:
    settings = settings or MetricsSettings()
    common = settings.common
    topics = Topics(common.topic_prefix)
    engine = create_engine(settings.effective_database_url)
    sessions = create_session_factory(engine)
    dead_letters = service_producer(common, "leadrelay-metrics")
    consumer = service_consumer(
        common,
        group_id=settings.group_id,
        topics=[topics.lead_events, topics.handoffs],
        handler=metrics_dispatcher(sessions),
        dead_letters=dead_letters,
        max_attempts=settings.max_attempts,
    )
    return MetricsService(settings, engine, sessions, dead_letters, consumer)


def create_app(service: MetricsService) -> FastAPI:
    loops = BackgroundLoops()

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await prepare_service(service.engine, "metrics", service.settings.common)
        loops.start("metrics-consumer", service.consumer.run)
        try:
            yield
        finally:
            await loops.shutdown()
            await service.dead_letters.stop()
            await service.engine.dispose()

    app = FastAPI(title="LeadRelay metrics", version="0.1.0", lifespan=lifespan)
    app.state.sessions = service.sessions
    app.include_router(ops_router(service.readiness))
    app.include_router(api_router)
    return app
