"""One dispatch per consumer: decode the CloudEvent once, then hand the typed payload to the
handler registered for its model. Bytes that are not a readable event are a permanent error
(dead-lettered); event types this consumer does not handle are skipped."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from shared.events import EVENT_MODELS, CloudEvent, EnvelopeError, Event
from shared.kafka import Delivery, PermanentError
from shared.logging import get_logger

log = get_logger(__name__)

# A handler gets the envelope (id, subject, time) and its typed payload; True when it changed state.
EventHandler = Callable[[CloudEvent, Any], Awaitable[bool]]


def decode(raw: bytes | None) -> tuple[CloudEvent, Event] | None:
    """The envelope and typed payload; None for a well-formed event of a type nobody publishes here."""
    try:
        event = CloudEvent.from_bytes(raw)
        if event.type not in EVENT_MODELS:
            return None
        return event, event.typed()
    except EnvelopeError as exc:
        raise PermanentError(str(exc)) from exc


class Dispatcher:
    def __init__(self, handlers: Mapping[type[Event], EventHandler]) -> None:
        self._handlers = dict(handlers)

    @property
    def models(self) -> tuple[type[Event], ...]:
        return tuple(self._handlers)

    async def __call__(self, delivery: Delivery) -> None:
        decoded = decode(delivery.value)
        if decoded is None:
            log.info("unknown_event_type_skipped", topic=delivery.topic, offset=delivery.offset)
            return
        await self.dispatch(*decoded)

    async def dispatch(self, event: CloudEvent, payload: Event) -> bool:
        handler = self._handlers.get(type(payload))
        if handler is None:
            return False  # published, but not this consumer's business
        return await handler(event, payload)
