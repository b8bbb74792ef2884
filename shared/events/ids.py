"""Stable ids: the same input always names the same event, so a retry or a reprocessing can never
mint a new one (consumers deduplicate on the CloudEvent id)."""

from __future__ import annotations

import uuid


def stable_id(*parts: str) -> str:
    """A UUIDv5 of the parts; the parts must include everything that makes the thing unique."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "leadrelay:" + ":".join(parts)))


def new_event_id() -> str:
    return str(uuid.uuid4())
