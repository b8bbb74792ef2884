"""Every target the config names, built once at start: webhook endpoints, each contact's Slack and
email, each CRM. Each webhook endpoint gets an HTTP client (connection pool) of its own."""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.delivery.clock import Clock
from services.delivery.crm.base import CrmAdapter
from services.delivery.crm.registry import crm_adapters
from services.delivery.notify.notice import Directory
from services.delivery.notify.senders import EmailSender, SlackSender
from services.delivery.senders import RateLimiter, Target, WebhookSender, endpoint_client
from services.delivery.signing import Signer, secrets_from_env
from shared.config import LeadRelayConfig
from shared.outbound_http import tls_context


@dataclass
class Outbound:
    targets: dict[str, Target] = field(default_factory=dict)
    crms: list[CrmAdapter] = field(default_factory=list)
    clients: list[httpx.AsyncClient] = field(default_factory=list)

    async def aclose(self) -> None:
        for client in self.clients:
            await client.aclose()


def build_outbound(
    config: LeadRelayConfig, sessions: async_sessionmaker[AsyncSession], clock: Clock, *, dev: bool
) -> Outbound:
    out = Outbound()
    for endpoint in config.deliveries:
        if not endpoint.enabled:
            continue
        client = endpoint_client(endpoint.concurrency)
        out.clients.append(client)
        signer = Signer(secrets_from_env(endpoint.name, endpoint.secret_env, dev=dev))
        rate = endpoint.rate_limit_per_s
        name = f"webhook:{endpoint.name}"
        out.targets[name] = Target(
            name,
            WebhookSender(endpoint, signer, client, clock),
            endpoint.concurrency,
            endpoint.schedule_s,
            limiter=RateLimiter(rate, burst=max(1, int(rate))) if rate else None,
        )
    notify = config.notifications
    directory = Directory(config)
    slack_client = httpx.AsyncClient(limits=httpx.Limits(max_connections=32), verify=tls_context())
    out.clients.append(slack_client)
    for who, contact in notify.contacts.items():
        # One at a time per person and channel: their notices arrive in event order.
        if contact.slack_webhook_env:
            sender = SlackSender(sessions, directory, who, contact, slack_client, clock)
            out.targets[f"slack:{who}"] = Target(
                f"slack:{who}", sender, 1, notify.schedule_s, at_most_once=True
            )
        if contact.email:
            mailer = EmailSender(sessions, directory, who, contact, notify.smtp)
            out.targets[f"email:{who}"] = Target(
                f"email:{who}", mailer, 1, notify.schedule_s, at_most_once=True
            )
    crm_client = httpx.AsyncClient(limits=httpx.Limits(max_connections=8), verify=tls_context())
    out.clients.append(crm_client)
    out.crms = crm_adapters(config, crm_client, clock)
    for crm in out.crms:
        out.targets[f"crm:{crm.name}"] = Target(f"crm:{crm.name}", crm, crm.concurrency, crm.schedule)
    return out
