"""Structured logging (structlog): JSON lines in production, readable lines in a terminal.

Logs carry ids (lead_id, event_id, rep_id), never personal data: `redact_pii`
drops known PII keys should one slip into a log call.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

PII_KEYS = frozenset(
    {"email", "first_name", "last_name", "name", "phone", "company", "title", "ip", "payload", "body"}
)


def _redact(value: Any, depth: int = 0) -> Any:
    if isinstance(value, dict) and depth < 5:
        return {
            k: "[redacted]" if isinstance(k, str) and k.lower() in PII_KEYS else _redact(v, depth + 1)
            for k, v in value.items()
        }
    return value


def redact_pii(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """Replace values under personal-data keys, at any nesting depth and in any letter case."""
    for key, value in list(event_dict.items()):
        if key.lower() in PII_KEYS:
            event_dict[key] = "[redacted]"
        elif isinstance(value, dict):
            event_dict[key] = _redact(value)
    return event_dict


def configure_logging(level: str = "INFO", fmt: str = "json", service: str | None = None) -> None:
    """Configure structlog and route stdlib logging (uvicorn, aiokafka) through it."""
    shared_processors: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        redact_pii,
    ]
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    structlog.configure(
        processors=[*shared_processors, structlog.processors.format_exc_info, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared_processors,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # aiokafka is chatty about routine group coordination at INFO.
    logging.getLogger("aiokafka").setLevel(logging.WARNING)
    if service:
        structlog.contextvars.bind_contextvars(service=service)


def get_logger(name: str) -> Any:
    return structlog.get_logger(name)
