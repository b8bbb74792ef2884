"""What the config file may say about delivery: outbound webhooks (`deliveries:`), rep notifications
(`notifications:`) and CRM write-back (`crm:`). Checked at load, like the rest of the config, so a
bad endpoint is refused at start with the line to fix.
"""

from __future__ import annotations

import re

import cel
from pydantic import BaseModel, ConfigDict, Field, field_validator

from shared.events.models import EMAIL_PATTERN
from shared.events.registry import EVENT_MODELS

NAME_PATTERN = r"^[a-z0-9][a-z0-9_.-]*$"
ENV_NAME_PATTERN = r"^[A-Z][A-Z0-9_]*$"
# Svix's schedule: now, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h (delay before each attempt).
DEFAULT_SCHEDULE_S: tuple[float, ...] = (0, 5, 300, 1800, 7200, 18000, 36000, 36000)
NOTIFY_EVENTS: tuple[str, ...] = (
    "lead.assigned",
    "lead.reassigned",
    "sla.warning",
    "sla.breached",
    "sla.escalated",
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _cel(expression: str | None) -> str | None:
    if expression is None:
        return None
    try:
        cel.compile(expression)
    except (ValueError, RuntimeError) as exc:
        raise ValueError(f"not a valid CEL expression: {exc}") from exc
    return expression


def _env_names(names: list[str]) -> list[str]:
    for name in names:
        if not re.match(ENV_NAME_PATTERN, name):
            raise ValueError(f"{name!r} is not an environment variable name (like LEADRELAY_CRM_SECRET)")
    return names


class DeliveryEndpoint(_Strict):
    """One outbound webhook: handoff events, signed with Standard Webhooks, retried on a schedule."""

    name: str = Field(pattern=NAME_PATTERN, description="stable id of the endpoint (used in deliveries)")
    url: str = Field(pattern=r"^https?://", description="where the events are POSTed")
    event_types: list[str] = Field(
        default_factory=list, description="CloudEvent types to send; empty = every handoff event"
    )
    when: str | None = Field(default=None, description="CEL over `event` (the CloudEvent); send if true")
    secret_env: list[str] = Field(
        min_length=1,
        max_length=2,
        description="env vars holding the whsec_ secret; name two to rotate (both sign every request)",
    )
    timeout_s: float = Field(default=15.0, gt=0, le=300, description="a 2xx must arrive within this")
    rate_limit_per_s: float | None = Field(default=None, gt=0, description="at most this many requests/s")
    concurrency: int = Field(default=8, ge=1, le=256, description="requests in flight to this endpoint")
    schedule_s: list[float] = Field(
        default_factory=lambda: list(DEFAULT_SCHEDULE_S),
        min_length=1,
        description="delay before each attempt (first is usually 0); after the last, dead-lettered",
    )
    enabled: bool = True

    _check_when = field_validator("when")(classmethod(lambda cls, v: _cel(v)))
    _check_env = field_validator("secret_env")(classmethod(lambda cls, v: _env_names(v)))

    @field_validator("event_types")
    @classmethod
    def _known_types(cls, value: list[str]) -> list[str]:
        unknown = [t for t in value if t not in EVENT_MODELS]
        if unknown:
            raise ValueError(f"unknown event type(s) {unknown}; known: {sorted(EVENT_MODELS)}")
        return value

    @field_validator("schedule_s")
    @classmethod
    def _non_negative(cls, value: list[float]) -> list[float]:
        if any(v < 0 for v in value):
            raise ValueError("schedule delays are seconds and cannot be negative")
        return value


class Contact(_Strict):
    """How to reach a rep or a manager (keyed by rep id or by the team's `manager:` name)."""

    email: str | None = Field(default=None, pattern=EMAIL_PATTERN)
    slack_webhook_env: str | None = Field(
        default=None, pattern=ENV_NAME_PATTERN, description="env var holding the Slack incoming-webhook URL"
    )
    name: str | None = Field(default=None, description="display name (reps default to their config name)")
    timezone: str | None = Field(default=None, description="deadlines are shown in this zone")


class SmtpConfig(_Strict):
    host: str = "127.0.0.1"
    port: int = Field(default=25, ge=1, le=65535)
    sender: str = Field(default="leadrelay@localhost", description="the From: address")
    starttls: bool = False
    username_env: str | None = Field(default=None, pattern=ENV_NAME_PATTERN)
    password_env: str | None = Field(default=None, pattern=ENV_NAME_PATTERN)
    timeout_s: float = Field(default=15.0, gt=0)


class NotificationsConfig(_Strict):
    enabled: bool = True
    events: list[str] = Field(default_factory=lambda: list(NOTIFY_EVENTS))
    contacts: dict[str, Contact] = Field(default_factory=dict, description="rep id / manager -> contact")
    timeline_url: str = Field(
        default="http://127.0.0.1:8002",
        description="metrics base URL; messages link to {timeline_url}/v1/leads/{id}/timeline",
    )
    smtp: SmtpConfig = Field(default_factory=SmtpConfig)
    assigned_delay_s: float = Field(
        default=1.0,
        ge=0,
        description="wait this long before an assignment notice, so the SLA deadline that follows is known",
    )
    schedule_s: list[float] = Field(default_factory=lambda: [0.0, 5.0, 60.0, 300.0], min_length=1)

    @field_validator("events")
    @classmethod
    def _notifiable(cls, value: list[str]) -> list[str]:
        unknown = [t for t in value if t not in NOTIFY_EVENTS]
        if unknown:
            raise ValueError(f"cannot notify on {unknown}; choose from {list(NOTIFY_EVENTS)}")
        return value


class HubSpotCrmConfig(_Strict):
    token_env: str = Field(pattern=ENV_NAME_PATTERN, description="env var: the private app's access token")
    base_url: str = "https://api.hubapi.com"
    owners: dict[str, str] = Field(description="rep id -> HubSpot owner id (hubspot_owner_id)")
    timeout_s: float = Field(default=15.0, gt=0)
    schedule_s: list[float] = Field(default_factory=lambda: list(DEFAULT_SCHEDULE_S), min_length=1)


class CrmConfig(_Strict):
    """Owner write-back, one adapter per CRM (HubSpot first); leads from a source of that kind."""

    hubspot: HubSpotCrmConfig | None = None


def check_deliveries(endpoints: list[DeliveryEndpoint]) -> list[DeliveryEndpoint]:
    seen: set[str] = set()
    for endpoint in endpoints:
        if endpoint.name in seen:
            raise ValueError(f"delivery endpoint {endpoint.name!r} appears twice; names must be unique")
        seen.add(endpoint.name)
    return endpoints
