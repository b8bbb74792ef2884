"""The one place the router is wired: config, database, Kafka, domain, handlers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from services.router.domain.decision import Router
from services.router.domain.routing import teams_from_config
from services.router.domain.rules import RuleSet
from services.router.handlers import router_dispatcher
from services.router.settings import RouterSettings
from services.router.tables import outbox
from shared.config import LeadRelayConfig, load_config
from shared.db import create_engine, create_session_factory
from shared.events import Topics
from shared.http_ops import database_ready, ops_router
from shared.kafka import ConsumerLoop, EventProducer
from shared.outbox_relay import OutboxRelay
from shared.runtime import BackgroundLoops, prepare_service, service_consumer, service_producer


@dataclass
class RouterService:
    settings: RouterSettings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    producer: EventProducer
    relay: OutboxRelay
    consumer: ConsumerLoop

    async def readiness(self) -> dict[str, bool]:
        return {
            "database": await database_ready(self.engine),
            "consumer": self.consumer.ready.is_set(),
            "outbox": self.relay.healthy(),
        }


def bootstrap(settings: RouterSettings | None = None, config: LeadRelayConfig | None = None) -> RouterService:
    settings = settings or RouterSettings()
    common = settings.common
    config = config or load_config(common.config)
    topics = Topics(common.topic_prefix)
    engine = create_engine(settings.effective_database_url)
    sessions = create_session_factory(engine)
    producer = service_producer(common, "leadrelay-router")
    relay = OutboxRelay(sessions, outbox, producer)
    router = Router(RuleSet.from_config(config.qualification), teams_from_config(config.routing))
    handler = router_dispatcher(sessions, router, topics, on_commit=relay.wakeup)
    consumer = service_consumer(
        common,
        group_id=settings.group_id,
        topics=[topics.lead_events],
        handler=handler,
        dead_letters=producer,
        max_attempts=settings.max_attempts,
    )
    return RouterService(settings, engine, sessions, producer, relay, consumer)


def create_app(service: RouterService) -> FastAPI:
    loops = BackgroundLoops()

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await prepare_service(service.engine, "router", service.settings.common)
        loops.start("router-consumer", service.consumer.run)
        loops.start("router-outbox", service.relay.run)
        try:
            yield
        finally:
            service.relay.wakeup()
            await loops.shutdown()
            await service.producer.stop()
            await service.engine.dispose()

    app = FastAPI(title="LeadRelay router", version="0.1.0", lifespan=lifespan)
    app.include_router(ops_router(service.readiness))
    return app
