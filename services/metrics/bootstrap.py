"""The one place the metrics service is wired: database, Kafka consumer, HTTP API."""

from __future__ import annotations

from fastapi import FastAPI

from services.metrics.endpoints import router as api_router
from services.metrics.handlers import metrics_dispatcher
from services.metrics.settings import MetricsSettings
from shared.consumer_service import ConsumerService, build_consumer_service, consumer_app, service_parts
from shared.events import Topics


def bootstrap(settings: MetricsSettings | None = None) -> ConsumerService:
    settings = settings or MetricsSettings()
    topics = Topics(settings.common.topic_prefix)
    parts = service_parts("metrics", settings)
    handler = metrics_dispatcher(parts.sessions)
    return build_consumer_service(parts, settings, [topics.lead_events, topics.handoffs], handler)


def create_app(service: ConsumerService) -> FastAPI:
    return consumer_app(service, title="LeadRelay metrics", routers=[api_router])
