"""The one place the router is wired: config, database, Kafka, domain, handlers, outbox relay."""

from __future__ import annotations

from fastapi import FastAPI

from services.router.domain.decision import Router
from services.router.domain.routing import teams_from_config
from services.router.domain.rules import RuleSet
from services.router.handlers import router_dispatcher
from services.router.settings import RouterSettings
from services.router.sla.ladder import Ladder
from services.router.sla.service import SlaService
from services.router.sla.setup import SlaSetup
from services.router.sla.time_source import Clock, SystemClock
from services.router.sla.timer_loop import SlaTimerLoop
from services.router.tables import outbox
from shared.config import LeadRelayConfig, load_config
from shared.consumer_service import ConsumerService, build_consumer_service, consumer_app, service_parts
from shared.events import Topics
from shared.outbox_relay import OutboxRelay


def bootstrap(
    settings: RouterSettings | None = None,
    config: LeadRelayConfig | None = None,
    clock: Clock | None = None,
) -> ConsumerService:
    """`clock` is where SLA clocks read "now" (the system clock unless a test drives it by hand)."""
    settings = settings or RouterSettings()
    config = config or load_config(settings.common.config)
    topics = Topics(settings.common.topic_prefix)
    parts = service_parts("router", settings)
    relay = OutboxRelay(parts.sessions, outbox, parts.producer)
    router = Router(RuleSet.from_config(config.qualification), teams_from_config(config.routing))
    sla = SlaService(SlaSetup.from_config(config), clock or SystemClock())
    handler = router_dispatcher(parts.sessions, router, topics, on_commit=relay.wakeup, sla=sla)
    service = build_consumer_service(parts, settings, [topics.lead_events], handler)
    timers = SlaTimerLoop(parts.sessions, Ladder(sla, router.teams), topics, on_commit=relay.wakeup)
    service.loops["outbox"] = relay.run
    service.loops["sla-timers"] = timers.run
    service.checks["outbox"] = relay.healthy
    service.on_shutdown.append(relay.wakeup)  # a last round for what the consumer just committed
    return service


def create_app(service: ConsumerService) -> FastAPI:
    return consumer_app(service, title="LeadRelay router")
