"""Which messages one event makes: webhook endpoints, rep notifications, CRM write-backs.

Pure: the same event always makes the same messages with the same ids (`stable_id(event, target)`),
which is what keeps a redelivered event from sending anything twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

import cel

from services.delivery.config import DeliveryEndpoint, NotificationsConfig
from services.delivery.repository import NewMessage
from shared.events import CloudEvent, Event, LeadQueued, SlaEscalated, stable_id
from shared.events.models import ActivityRecorded, LeadCaptured
from shared.logging import get_logger

log = get_logger(__name__)
# Events that are not handoffs (lead-events) never go to endpoints, whatever their filter says.
NOT_HANDOFFS = frozenset({LeadCaptured.event_type, ActivityRecorded.event_type})


class CrmPlanner(Protocol):
    name: str

    def wants(self, event: CloudEvent, payload: Event) -> bool: ...


@dataclass(frozen=True)
class _Endpoint:
    config: DeliveryEndpoint
    program: Any | None


class Planner:
    def __init__(
        self,
        endpoints: Sequence[DeliveryEndpoint],
        notifications: NotificationsConfig,
        managers: dict[str, str | None],
        crms: Sequence[CrmPlanner] = (),
    ) -> None:
        self._endpoints = [
            _Endpoint(e, cel.compile(e.when) if e.when else None) for e in endpoints if e.enabled
        ]
        self._notify = notifications
        self._managers = managers  # team -> manager
        self._crms = list(crms)

    def plan(self, event: CloudEvent, payload: Event, raw: bytes, now: datetime) -> list[NewMessage]:
        def message(target: str, delay_s: float = 0.0) -> NewMessage:
            return NewMessage(
                message_id=stable_id("delivery", event.id, target),
                event_id=event.id,
                target=target,
                lead_id=event.subject,
                event_type=event.type,
                body=raw,
                due_at=now + timedelta(seconds=delay_s),
            )

        out = [message(f"webhook:{e.config.name}") for e in self._endpoints if self._matches(e, event)]
        delay = self._notify.assigned_delay_s if event.type == "lead.assigned" else 0.0
        for who in self.recipients(event, payload):
            contact = self._notify.contacts.get(who)
            if contact is None:
                log.info("notification_no_contact", recipient=who, event_type=event.type)
                continue
            if contact.slack_webhook_env:
                out.append(message(f"slack:{who}", delay))
            if contact.email:
                out.append(message(f"email:{who}", delay))
        out += [message(f"crm:{crm.name}") for crm in self._crms if crm.wants(event, payload)]
        return out

    def _matches(self, endpoint: _Endpoint, event: CloudEvent) -> bool:
        types = endpoint.config.event_types
        if event.type in NOT_HANDOFFS or (types and event.type not in types):
            return False
        if endpoint.program is None:
            return True
        try:
            return endpoint.program.execute({"event": event.model_dump(mode="json")}) is True
        except (ValueError, TypeError, KeyError, RuntimeError) as exc:
            log.warning("delivery_condition_error", endpoint=endpoint.config.name, error=str(exc)[:200])
            return False

    def recipients(self, event: CloudEvent, payload: Event) -> list[str]:
        """Who hears about this event: the owner, or the manager on a `notify_manager` escalation."""
        if (
            not self._notify.enabled
            or event.type not in self._notify.events
            or isinstance(payload, LeadQueued)
        ):
            return []
        if isinstance(payload, SlaEscalated):
            if payload.action == "notify_manager":
                manager = payload.manager or self._managers.get(payload.team)
                return [manager] if manager else []
            if payload.action != "remind":
                return []  # a reassignment is told by its own lead.reassigned
        rep_id = getattr(payload, "rep_id", None)
        return [rep_id] if isinstance(rep_id, str) else []
