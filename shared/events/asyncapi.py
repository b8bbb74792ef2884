"""The event contract as an AsyncAPI 3.0 document, generated from the published models.

`python -m shared.events.asyncapi` writes docs/asyncapi.yaml; `--check` fails when the committed
file is out of date. Every message is a CloudEvent (structured mode, Kafka binding) whose `data`
is the JSON Schema of one model in PUBLISHED_MODELS, so integrators read one file and know every
field. Schemas are pydantic's serialization schemas: what is on the wire, not what a model accepts.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import yaml

from shared.events.envelope import SCHEMA_VERSION
from shared.events.erasure import PersonErased
from shared.events.models import ActivityRecorded, Event, LeadCaptured
from shared.events.registry import PUBLISHED_MODELS

DOCUMENT = Path(__file__).resolve().parents[2] / "docs" / "asyncapi.yaml"
REF = "#/components/schemas/{model}"
LEAD_EVENTS: tuple[type[Event], ...] = (LeadCaptured, ActivityRecorded, PersonErased)
CONTENT_TYPE = "application/cloudevents+json"


def _message_name(model: type[Event]) -> str:
    return model.__name__


def envelope_schema(model: type[Event]) -> dict[str, Any]:
    """CloudEvents 1.0 structured JSON, `data` being the model's schema."""
    return {
        "type": "object",
        "title": f"{model.event_type} (CloudEvent)",
        "required": ["specversion", "id", "source", "type", "time", "subject", "data"],
        "properties": {
            "specversion": {"const": "1.0"},
            "id": {"type": "string", "minLength": 1, "description": "stable: a redelivery keeps it"},
            "source": {"type": "string", "minLength": 1},
            "type": {"const": model.event_type},
            "time": {"type": "string", "format": "date-time", "description": "event time, UTC"},
            "subject": {"type": "string", "minLength": 1, "description": "the lead id (= Kafka key)"},
            "datacontenttype": {"const": "application/json"},
            "schemaversion": {"type": "integer", "minimum": 1, "maximum": SCHEMA_VERSION},
            "data": {"$ref": REF.format(model=f"{model.__name__}Data")},
        },
        "additionalProperties": True,  # CloudEvents extension attributes
    }


def _schemas() -> dict[str, Any]:
    schemas: dict[str, Any] = {}
    for model in PUBLISHED_MODELS:
        schema = model.model_json_schema(ref_template=REF, mode="serialization")
        for name, definition in schema.pop("$defs", {}).items():
            schemas.setdefault(name, definition)
        schema["title"] = f"{model.__name__}Data"
        schema["description"] = (model.__doc__ or model.event_type).strip().split("\n")[0]
        schemas[f"{model.__name__}Data"] = schema
        schemas[model.event_type] = envelope_schema(model)
    return dict(sorted(schemas.items()))


def _message(model: type[Event]) -> dict[str, Any]:
    return {
        "name": model.event_type,
        "title": model.event_type,
        "contentType": CONTENT_TYPE,
        "headers": {
            "type": "object",
            "properties": {"content-type": {"const": CONTENT_TYPE}},
        },
        "payload": {"$ref": REF.format(model=model.event_type)},
        "bindings": {"kafka": {"key": {"type": "string", "description": "the lead id"}}},
    }


def _channel(address: str, description: str, models: tuple[type[Event], ...]) -> dict[str, Any]:
    return {
        "address": address,
        "description": description,
        "messages": {_message_name(m): {"$ref": f"#/components/messages/{_message_name(m)}"} for m in models},
    }


def build(prefix: str = "leadrelay.") -> dict[str, Any]:
    handoffs = tuple(m for m in PUBLISHED_MODELS if m not in LEAD_EVENTS)
    messages = {_message_name(m): _message(m) for m in PUBLISHED_MODELS}
    messages["DeadLetter"] = {
        "name": "dead-letter",
        "title": "what could not be processed",
        "description": "The original record's bytes (maybe not a CloudEvent) and key, with reason headers.",
        "headers": {
            "type": "object",
            "properties": {
                f"leadrelay-dlq-{h}": {"type": "string"}
                for h in ("reason", "topic", "partition", "offset", "group", "attempts")
            },
        },
        "payload": {},
    }
    channels = {
        "leadEvents": _channel(f"{prefix}lead-events", "What enters LeadRelay (from ingest).", LEAD_EVENTS),
        "handoffs": _channel(
            f"{prefix}handoffs", "What the router decides; what sales tools consume.", handoffs
        ),
        "dlq": {
            "address": f"{prefix}dlq",
            "description": "Records a consumer could not process, with the reason.",
            "messages": {"DeadLetter": {"$ref": "#/components/messages/DeadLetter"}},
        },
    }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "LeadRelay events",
            "version": f"{SCHEMA_VERSION}.0.0",
            "description": (
                "CloudEvents 1.0 in structured JSON, keyed by lead id. Topic names carry a configurable "
                "prefix (default `leadrelay.`). Generated from shared/events by "
                "`python -m shared.events.asyncapi`; do not edit by hand."
            ),
        },
        "defaultContentType": CONTENT_TYPE,
        "channels": channels,
        "operations": {
            f"receive{name[0].upper()}{name[1:]}": {
                "action": "receive",
                "channel": {"$ref": f"#/channels/{name}"},
                "summary": f"consume {channel['address']}",
            }
            for name, channel in channels.items()
        },
        "components": {"messages": messages, "schemas": _schemas()},
    }


def render() -> str:
    return yaml.safe_dump(build(), sort_keys=False, allow_unicode=True, width=110)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write (or check) the AsyncAPI document.")
    parser.add_argument("--output", type=Path, default=DOCUMENT)
    parser.add_argument("--check", action="store_true", help="exit 1 if the file is out of date")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        current = args.output.read_text() if args.output.exists() else ""
        if current != text:
            print(f"{args.output} is out of date: run python -m shared.events.asyncapi", file=sys.stderr)
            return 1
        return 0
    args.output.write_text(text)
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
