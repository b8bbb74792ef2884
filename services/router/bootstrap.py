"""The one place the router is wired: config, database, Kafka, domain, handlers, outbox relay."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from fastapi import FastAPI

from services.router.domain.decision import Router
from services.router.handlers import router_handlers
from services.router.qualification.check import load_checked
from services.router.reload import ConfigReloader, config_version
from services.router.settings import RouterSettings
from services.router.sla.ladder import Ladder
from services.router.sla.service import SlaService
from services.router.sla.setup import SlaSetup
from services.router.sla.time_source import Clock, SystemClock
from services.router.sla.timer_loop import SlaTimerLoop
from services.router.tables import outbox
from shared.config import LeadRelayConfig
from shared.consumer_service import ConsumerService, build_consumer_service, consumer_app, service_parts
from shared.events import Topics
from shared.kafka.reset import BrokerResetWatcher
from shared.outbox_relay import OutboxRelay
from shared.runtime import every, is_transient_failure


def bootstrap(
    settings: RouterSettings | None = None,
    config: LeadRelayConfig | None = None,
    clock: Clock | None = None,
) -> ConsumerService:
    """`clock` is where SLA clocks read "now" (the system clock unless a test drives it by hand)."""
    settings = settings or RouterSettings()
    path = Path(settings.common.config)
    from_file = config is None
    config = config or load_checked(path)  # CEL type errors refuse the start, as a reload
    topics = Topics(settings.common.topic_prefix)
    parts = service_parts("router", settings)
    relay = OutboxRelay(parts.sessions, outbox, parts.producer)
    version = config_version(path) if from_file else None
    router = Router.from_config(config, version=version)
    sla = SlaService(SlaSetup.from_config(config), clock or SystemClock())
    dispatcher, batches, leads = router_handlers(
        parts.sessions, router, topics, on_commit=relay.wakeup, sla=sla
    )
    service = build_consumer_service(parts, settings, [topics.lead_events], dispatcher)
    service.consumer.batch_handler = batches  # a poll's leads in one transaction
    ladder = Ladder(sla, router.teams)
    timers = SlaTimerLoop(parts.sessions, ladder, topics, on_commit=relay.wakeup)
    service.loops["outbox"] = relay.run
    service.loops["sla-timers"] = timers.run
    if from_file:

        def apply(new_config: LeadRelayConfig, new_router: Router) -> None:
            # SLA policies and calendars are read at start; rules, scoring, accounts and routing reload.
            leads.router = new_router
            ladder.teams = new_router.teams

        service.loops["config-reload"] = ConfigReloader(path, apply).run
    service.checks["outbox"] = relay.healthy
    window = timedelta(hours=settings.republish_window_hours)
    watcher = BrokerResetWatcher(
        "router",
        settings.common.kafka_bootstrap,
        parts.producer,
        topics.all(),
        settings.common.kafka_partitions,
        lambda: relay.republish_since(window),
        control_prefix=settings.common.topic_prefix,
        is_transient=is_transient_failure,
    )
    service.on_startup.append(watcher.first_check)
    service.loops["broker-reset"] = watcher.run
    service.loops["outbox-purge"] = every(3600, lambda: relay.forget_published(window), "outbox-purge")
    service.on_shutdown.append(relay.wakeup)  # a last round for what the consumer just committed
    return service


def create_app(service: ConsumerService) -> FastAPI:
    return consumer_app(service, title="LeadRelay router")
