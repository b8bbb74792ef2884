"""CloudEvents 1.0, structured JSON mode, with a `schemaversion` extension attribute.

`time` is event time (when it happened at the source) so history can be imported
and replayed; `subject` is the lead id and doubles as the Kafka key.
"""

from __future__ import annotations

import builtins
from datetime import UTC, datetime
from typing import Any, Literal, TypeVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, field_serializer
from pydantic_core import to_json

from shared.events.ids import new_event_id
from shared.events.models import Event
from shared.events.registry import EVENT_MODELS

SCHEMA_VERSION = 1
# W3C trace context, as the CloudEvents distributed-tracing extension carries it.
TRACEPARENT_PATTERN = r"^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$"
E = TypeVar("E", bound=Event)


def _utc(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


class EnvelopeError(ValueError):
    """Bytes that are not a CloudEvent we can read (the consumer dead-letters them)."""


class CloudEvent(BaseModel):
    model_config = ConfigDict(frozen=True, extra="allow")

    specversion: Literal["1.0"] = "1.0"
    id: str = Field(min_length=1)
    source: str = Field(min_length=1)
    type: str = Field(min_length=1)
    time: AwareDatetime
    subject: str = Field(min_length=1)
    datacontenttype: Literal["application/json"] = "application/json"
    schemaversion: int = SCHEMA_VERSION
    data: dict[str, Any]
    # Distributed-tracing extension: optional, absent from the JSON when unset. A derived event is
    # wrapped with its cause's traceparent, so one lead's path is one trace when tracing is on.
    # Not validated: a malformed trace header from another producer must never dead-letter an event
    # (tracing ignores it; TRACEPARENT_PATTERN says what a valid one looks like).
    traceparent: str | None = None

    @field_serializer("time")
    def _utc_time(self, value: datetime) -> str:
        return _utc(value)

    @classmethod
    def wrap(
        cls,
        event: Event,
        *,
        subject: str,
        source: str,
        time: datetime,
        event_id: str | None = None,
        traceparent: str | None = None,
    ) -> CloudEvent:
        return cls(
            id=event_id or new_event_id(),
            traceparent=traceparent,
            source=source,
            type=event.event_type,
            time=time,
            subject=subject,
            data=event.model_dump(mode="json"),
        )

    @classmethod
    def encode(
        cls,
        event: Event,
        *,
        subject: str,
        source: str,
        time: datetime,
        event_id: str | None = None,
        traceparent: str | None = None,
    ) -> bytes:
        """`wrap(...).to_bytes()` in one pass, byte for byte (tests/unit/test_envelope.py holds it).

        For the publish hot path: wrap dumps the event to a dict, validates the envelope model
        around it and dumps it again; here the attributes are written directly and the event is
        serialised once, in the place the envelope's `data` takes."""
        if not (subject and source and event.event_type):
            raise ValueError("a CloudEvent needs a non-empty subject, source and type")
        if time.tzinfo is None:
            raise ValueError("a CloudEvent's time must carry its offset")
        attributes = {
            "specversion": "1.0",
            "id": event_id or new_event_id(),
            "source": source,
            "type": event.event_type,
            "time": _utc(time),
            "subject": subject,
            "datacontenttype": "application/json",
            "schemaversion": SCHEMA_VERSION,
        }
        tail = b"}" if traceparent is None else b',"traceparent":' + to_json(traceparent) + b"}"
        data = event.__pydantic_serializer__.to_json(event)  # model_dump_json's bytes, not re-encoded
        return to_json(attributes)[:-1] + b',"data":' + data + tail

    def to_bytes(self) -> bytes:
        unset = {"traceparent"} if self.traceparent is None else None
        return self.model_dump_json(exclude=unset).encode()

    @classmethod
    def from_bytes(cls, raw: bytes | None) -> CloudEvent:
        if not raw:
            raise EnvelopeError("empty message: expected a CloudEvent JSON object")
        try:
            event = cls.model_validate_json(raw)
        except ValidationError as exc:
            raise EnvelopeError(f"not a CloudEvents 1.0 structured JSON event: {exc}") from exc
        if event.schemaversion > SCHEMA_VERSION:
            raise EnvelopeError(
                f"schemaversion {event.schemaversion} is newer than this build understands "
                f"({SCHEMA_VERSION}); upgrade this service before it consumes these events"
            )
        return event

    def model(self) -> builtins.type[Event]:
        """The published model for this event's type (an unknown type is a permanent error)."""
        model = EVENT_MODELS.get(self.type)
        if model is None:
            raise EnvelopeError(f"unknown event type {self.type!r}; known: {sorted(EVENT_MODELS)}")
        return model

    def typed(self) -> Event:
        """The typed `data`, whatever the type (for dispatch by model)."""
        return self.payload(self.model())

    def payload(self, model: builtins.type[E]) -> E:
        """The typed `data`, checked against the model registered for this event type."""
        if EVENT_MODELS.get(self.type) is not model:
            raise EnvelopeError(f"event type {self.type!r} does not carry {model.__name__}")
        try:
            return model.model_validate(self.data)
        except ValidationError as exc:
            raise EnvelopeError(f"{self.type} data does not match its schema: {exc}") from exc
