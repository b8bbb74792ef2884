"""Putting a service's erasure in front of its consumer handler, in the records' order.

Metrics and delivery consume `person.erased` (lead-events) and `lead.erased` (handoffs) beside
everything else. Wrapping their handler keeps their own code as it is (one registration line each)
and keeps order: in a batch, the records before an erasure are handled first, then the erasure,
then the rest, so a lead's capture is never handled after its erasure.

Both events mean the same to these services ("forget this lead's person"), and erasing is
idempotent, so handling the one from each topic is harmless, and whichever comes first does it.
Only `lead.erased` goes on to the wrapped handler (sales tools subscribed to handoffs hear of it);
`person.erased` is an internal instruction on lead-events, never a handoff.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from shared.dispatch import decode
from shared.events import CloudEvent, Event, LeadErased, PersonErased
from shared.kafka import ConsumerLoop, Delivery
from shared.kafka.records import BatchHandler, Handler

Eraser = Callable[[CloudEvent, Event], Awaitable[bool]]
ERASURES: tuple[type[Event], ...] = (PersonErased, LeadErased)


def erasure_of(delivery: Delivery) -> tuple[CloudEvent, Event] | None:
    """The erasure this record carries, if it is one (a cheap byte check before any decoding)."""
    if delivery.value is None or b"erased" not in delivery.value:
        return None
    decoded = decode(delivery.value)
    if decoded is None or not isinstance(decoded[1], ERASURES):
        return None
    return decoded


def with_erasure(handler: Handler, eraser: Eraser) -> Handler:
    async def handle(delivery: Delivery) -> None:
        erasure = erasure_of(delivery)
        if erasure is None:
            await handler(delivery)
            return
        await eraser(*erasure)
        if isinstance(erasure[1], LeadErased):
            await handler(delivery)

    return handle


def with_erasure_batch(batch: BatchHandler, eraser: Eraser) -> BatchHandler:
    async def handle(deliveries: Sequence[Delivery]) -> None:
        run: list[Delivery] = []
        for delivery in deliveries:
            erasure = erasure_of(delivery)
            if erasure is None:
                run.append(delivery)
                continue
            if run:
                await batch(run)
                run = []
            await eraser(*erasure)
            if isinstance(erasure[1], LeadErased):
                run.append(delivery)
        if run:
            await batch(run)

    return handle


def install_erasure(consumer: ConsumerLoop, eraser: Eraser) -> None:
    """Put `eraser` in front of both of the consumer's handlers (call before it runs)."""
    consumer.handler = with_erasure(consumer.handler, eraser)
    if consumer.batch_handler is not None:
        consumer.batch_handler = with_erasure_batch(consumer.batch_handler, eraser)
