"""The one place the metrics service is wired: database, Kafka consumer, HTTP API, report config."""

from __future__ import annotations

from fastapi import FastAPI

from services.metrics.endpoints import router as api_router
from services.metrics.handlers import metrics_dispatcher
from services.metrics.reports.scope import ReportConfig
from services.metrics.settings import MetricsSettings
from shared.config import load_config
from shared.consumer_service import ConsumerService, build_consumer_service, consumer_app, service_parts
from shared.events import Topics


def bootstrap(settings: MetricsSettings | None = None) -> ConsumerService:
    settings = settings or MetricsSettings()
    topics = Topics(settings.common.topic_prefix)
    parts = service_parts("metrics", settings)
    handler = metrics_dispatcher(parts.sessions)
    return build_consumer_service(parts, settings, [topics.lead_events, topics.handoffs], handler)


def load_report_config(settings: MetricsSettings) -> ReportConfig:
    """Reporting zone, spend and quotas from LEADRELAY_CONFIG (a bad file stops the start, as elsewhere)."""
    config = load_config(settings.common.config)
    return ReportConfig(config.reporting, tuple(config.spend), tuple(config.quotas))


def create_app(service: ConsumerService, report_config: ReportConfig | None = None) -> FastAPI:
    app = consumer_app(service, title="LeadRelay metrics", routers=[api_router])
    app.state.report_config = report_config or ReportConfig()
    return app
