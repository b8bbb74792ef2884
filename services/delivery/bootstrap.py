"""The one place the deliverer is wired: config, database, Kafka consumer, targets, dispatcher, API."""

from __future__ import annotations

from functools import partial

from fastapi import FastAPI

from services.delivery.clock import Clock, SystemClock
from services.delivery.dispatcher import Dispatcher
from services.delivery.endpoints import router as api_router
from services.delivery.erasure import DeliveryEraser
from services.delivery.handlers import delivery_handlers
from services.delivery.planner import Planner
from services.delivery.retention import retention_loop
from services.delivery.settings import DeliverySettings
from services.delivery.targets import Outbound, build_outbound
from shared.config import LeadRelayConfig, load_config
from shared.consumer_service import ConsumerService, build_consumer_service, consumer_app, service_parts
from shared.erasure_handling import install_erasure
from shared.events import Topics


class DeliveryService(ConsumerService):
    dispatcher: Dispatcher
    outbound: Outbound
    settings: DeliverySettings
    clock: Clock


def bootstrap(
    settings: DeliverySettings | None = None,
    config: LeadRelayConfig | None = None,
    clock: Clock | None = None,
) -> DeliveryService:
    """`clock` is where retries read "now" (the system clock unless a test drives it)."""
    settings = settings or DeliverySettings()
    config = config or load_config(settings.common.config)
    clock = clock or SystemClock()
    topics = Topics(settings.common.topic_prefix)
    parts = service_parts("delivery", settings)
    outbound = build_outbound(config, parts.sessions, clock, dev=settings.common.is_dev)
    dispatcher = Dispatcher(
        parts.sessions,
        outbound.targets,
        clock,
        poll_interval_s=settings.poll_interval_s,
        lease_s=settings.lease_s,
    )
    managers = {team.name: team.manager for team in config.routing.teams}
    planner = Planner(config.deliveries, config.notifications, managers, outbound.crms)
    handler, batches = delivery_handlers(parts.sessions, planner, clock, on_commit=dispatcher.wakeup)
    # lead-events too: the lead cache notifications read (who, which company) comes from lead.captured.
    base = build_consumer_service(parts, settings, [topics.lead_events, topics.handoffs], handler)
    base.consumer.batch_handler = batches  # a poll's events in one transaction
    service = DeliveryService(base.parts, base.consumer)
    install_erasure(service.consumer, DeliveryEraser(parts.sessions))  # services/delivery/erasure.py
    service.dispatcher, service.outbound, service.settings, service.clock = (
        dispatcher,
        outbound,
        settings,
        clock,
    )
    service.loops["dispatcher"] = dispatcher.run
    service.loops["retention"] = partial(
        retention_loop, parts.sessions, clock, settings.retention_days, settings.purge_interval_s
    )
    return service


def create_app(service: DeliveryService) -> FastAPI:
    app = consumer_app(service, title="LeadRelay delivery", routers=[api_router])
    app.state.delivery_settings = service.settings
    app.state.delivery_clock = service.clock
    app.state.delivery_wakeup = service.dispatcher.wakeup
    return app
