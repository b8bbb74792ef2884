"""Helpers the delivery tests share (no tests here): a config with endpoints, an in-process
deliverer on a real database, and handoff events as the router publishes them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from services.delivery.clock import Clock
from services.delivery.dispatcher import Dispatcher
from services.delivery.handlers import delivery_handlers
from services.delivery.planner import Planner
from services.delivery.targets import Outbound, build_outbound
from shared.config import LeadRelayConfig, parse_config
from shared.db import create_engine, create_session_factory
from shared.db.migrate import migrate_service
from shared.events import CloudEvent, Event, LeadAssigned, LeadCaptured, LeadData, Reason, stable_id
from shared.kafka import Delivery

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "leadrelay.yaml"
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SECRET_NEXT = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"


def config_dict(**extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(EXAMPLE.read_text())
    data.update(extra)
    return data


def config_with(**extra: Any) -> LeadRelayConfig:
    return parse_config(yaml.safe_dump(config_dict(**extra)))


def endpoint(name: str, url: str, **more: Any) -> dict[str, Any]:
    return {"name": name, "url": url, "secret_env": ["T_DELIVERY_SECRET"], **more}


def assigned(
    lead_id: str, n: int = 0, rep: str = "ana", source: str = "api", when: datetime | None = None
) -> bytes:
    payload = LeadAssigned(
        decision_id=stable_id("t", lead_id, str(n)),
        source=source,
        rep_id=rep,
        team="inbound-amer",
        policy="round_robin",
        reasons=[Reason(code="round_robin", message=f"round robin: next in rotation is {rep}")],
        decided_at=when or datetime.now(UTC),
    )
    return wrap(payload, lead_id, f"{lead_id}/{n}", when)


def captured(lead_id: str, **lead: Any) -> bytes:
    data = LeadData(**{"email": "grace@navy.example", **lead})
    return wrap(LeadCaptured(lead=data, source="api", received_at=datetime.now(UTC)), lead_id, f"{lead_id}/c")


def wrap(payload: Event, lead_id: str, seed: str, when: datetime | None = None) -> bytes:
    event = CloudEvent.wrap(
        payload,
        subject=lead_id,
        source="leadrelay/router",
        time=when or datetime.now(UTC),
        event_id=stable_id("test-event", seed),
    )
    return event.to_bytes()


def record(value: bytes, offset: int = 0, topic: str = "t.handoffs") -> Delivery:
    return Delivery(topic, 0, offset, None, value)


@dataclass
class InProcess:
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    outbound: Outbound
    dispatcher: Dispatcher
    handler: Any
    batch: Any

    async def feed(self, *values: bytes) -> None:
        for n, value in enumerate(values):
            await self.handler(record(value, n))

    async def feed_batch(self, *values: bytes) -> None:
        """As the consumer loop hands a poll: one partition's records at once, in order."""
        await self.batch([record(value, n) for n, value in enumerate(values)])


@asynccontextmanager
async def deliverer(
    database_url: str, config: LeadRelayConfig, clock: Clock, *, lease_s: float = 30.0
) -> AsyncIterator[InProcess]:
    """The deliverer's parts in this process on a real database (a new one = a restart, or a
    second instance beside the first)."""
    engine = create_engine(database_url)
    await migrate_service(engine, "delivery")
    sessions = create_session_factory(engine)
    outbound = build_outbound(config, sessions, clock, dev=False)
    dispatcher = Dispatcher(sessions, outbound.targets, clock, poll_interval_s=0.05, lease_s=lease_s)
    managers = {t.name: t.manager for t in config.routing.teams}
    planner = Planner(config.deliveries, config.notifications, managers, outbound.crms)
    handler, batch = delivery_handlers(sessions, planner, clock, on_commit=dispatcher.wakeup)
    try:
        yield InProcess(engine, sessions, outbound, dispatcher, handler, batch)
    finally:
        await outbound.aclose()
        await engine.dispose()
