"""The one place the metrics service is wired: database, Kafka consumer, HTTP API, report config,
access control and the ops dashboard."""

from __future__ import annotations

import asyncio
from functools import partial

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.metrics.auth.access import AccessConfig
from services.metrics.auth.endpoints import router as auth_router
from services.metrics.auth.secrets import token_hash
from services.metrics.auth.service import ensure_admin
from services.metrics.dashboard.endpoints import router as dashboard_router
from services.metrics.dashboard.service import DashboardConfig
from services.metrics.endpoints import router as api_router
from services.metrics.erasure import MetricsEraser
from services.metrics.handlers import metrics_batch_handler, metrics_dispatcher
from services.metrics.observability import gauge_loop
from services.metrics.reports.scope import ReportConfig
from services.metrics.settings import MetricsSettings
from services.router.settings import RouterSettings
from shared.config import ConfigError, load_config
from shared.consumer_service import ConsumerService, build_consumer_service, consumer_app, service_parts
from shared.erasure_handling import install_erasure
from shared.events import Topics
from shared.logging import get_logger
from shared.observability import consumer_lag_loop

STATIC_DIR = __file__.rsplit("/", 1)[0] + "/static"
log = get_logger(__name__)


def bootstrap(settings: MetricsSettings | None = None) -> ConsumerService:
    settings = settings or MetricsSettings()
    topics = Topics(settings.common.topic_prefix)
    parts = service_parts("metrics", settings)
    handler = metrics_dispatcher(parts.sessions)
    service = build_consumer_service(parts, settings, [topics.lead_events, topics.handoffs], handler)
    service.consumer.batch_handler = metrics_batch_handler(parts.sessions)  # a poll in one transaction
    install_erasure(service.consumer, MetricsEraser(parts.sessions))  # services/metrics/erasure
    service.loops["housekeeping"] = partial(_housekeeping, parts.sessions, settings)
    # Lag of the pipeline's consumer groups, measured from here (it reads both topics anyway).
    groups = [settings.group_id, RouterSettings().group_id]
    watched = [topics.lead_events, topics.handoffs]
    service.loops["consumer-lag"] = partial(
        consumer_lag_loop, settings.common.kafka_bootstrap, groups, watched
    )
    return service


async def _housekeeping(
    sessions: async_sessionmaker[AsyncSession], settings: MetricsSettings, stop: asyncio.Event
) -> None:
    """After the migrations (loops start after them): the first admin, then the SLA gauges."""
    password = settings.admin_password.get_secret_value()
    while not stop.is_set():
        try:
            if await ensure_admin(sessions, settings.admin_user, password):
                log.info("dashboard_admin_created", user=settings.admin_user)
            break
        except Exception as exc:  # database not there yet: try again, the service keeps serving
            log.warning("dashboard_admin_bootstrap_failed", error=type(exc).__name__)
            await asyncio.sleep(1.0)
    await gauge_loop(sessions, stop)


def load_report_config(settings: MetricsSettings) -> ReportConfig:
    """Reporting zone, spend and quotas from LEADRELAY_CONFIG (a bad file stops the start, as elsewhere)."""
    config = load_config(settings.common.config)
    return ReportConfig(config.reporting, tuple(config.spend), tuple(config.quotas))


def load_dashboard_config(settings: MetricsSettings) -> DashboardConfig:
    """SLA calendars and routing weights; the start already refused a bad file (load_report_config)."""
    try:
        return DashboardConfig.from_config(load_config(settings.common.config))
    except ConfigError:
        return DashboardConfig()


def access_config(settings: MetricsSettings) -> AccessConfig:
    key = settings.api_key.get_secret_value() if settings.api_key else None
    return AccessConfig(
        env_key_hash=token_hash(key) if key else None,
        session_hours=settings.session_hours,
        secure_cookies=not settings.common.is_dev,
    )


def create_app(
    service: ConsumerService,
    report_config: ReportConfig | None = None,
    settings: MetricsSettings | None = None,
) -> FastAPI:
    settings = settings or MetricsSettings()
    app = consumer_app(
        service, title="LeadRelay metrics", routers=[auth_router, dashboard_router, api_router]
    )
    app.state.report_config = report_config or ReportConfig()
    app.state.access = access_config(settings)
    app.state.dashboard = load_dashboard_config(settings)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app
