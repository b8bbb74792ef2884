"""The adapter shape a CRM plugs into. The deliverer only knows this protocol: a new CRM
(Salesforce, Pipedrive, Close) is a new module and a line in `crm/registry.py`, nothing else."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from services.delivery.outcome import Outcome
from services.delivery.repository import Message
from shared.events import CloudEvent, Event


class CrmAdapter(Protocol):
    name: str  # the target is `crm:<name>`
    schedule: Sequence[float]
    concurrency: int

    def wants(self, event: CloudEvent, payload: Event) -> bool:
        """Does this event mean a write to this CRM (e.g. an assignment of a lead it sent)?"""
        ...

    async def send(self, message: Message) -> Outcome:
        """Write it; the outcome says whether to retry (and when) like any other delivery."""
        ...
