"""What a poll returns, handled as batches: consecutive `lead.captured` events go to the lead
handler together (one transaction); anything else is dispatched one by one, in offset order.

Per-lead order holds because a lead's events share a partition and the runs are processed in
offset order. If anything fails, the consumer loop falls back to one record at a time (with its
retries and dead-lettering); what this batch committed before the failure is then deduplicated
by the inbox.
"""

from __future__ import annotations

from collections.abc import Sequence

from services.router.handlers.lead_captured import Item, LeadCapturedHandler
from shared.dispatch import Dispatcher, decode
from shared.events import LeadCaptured
from shared.kafka import Delivery


class RouterBatchHandler:
    def __init__(self, dispatcher: Dispatcher, leads: LeadCapturedHandler) -> None:
        self._dispatcher = dispatcher
        self._leads = leads

    async def __call__(self, deliveries: Sequence[Delivery]) -> None:
        run: list[Item] = []
        for delivery in deliveries:
            decoded = decode(delivery.value)  # a PermanentError here: the loop retries one by one
            if decoded is None:
                continue
            event, payload = decoded
            if isinstance(payload, LeadCaptured):
                run.append((event, payload))
                continue
            if run:
                await self._leads.handle_batch(run)
                run = []
            await self._dispatcher.dispatch(event, payload)
        if run:
            await self._leads.handle_batch(run)
