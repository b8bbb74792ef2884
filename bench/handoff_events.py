"""Handoff events and a delivery config for the delivery bench, without importing tests/.

Mirrors what the router publishes (`lead.assigned` as a CloudEvent with a stable id) and the
example config with one webhook endpoint; the delivery tests have their own copy in
tests/integration/test_delivery_support.py.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import yaml

from services.devstack import ROOT
from shared.config import LeadRelayConfig, parse_config
from shared.events import CloudEvent, LeadAssigned, Reason, stable_id

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"  # a throwaway Standard Webhooks secret for the bench


def config_with(**extra: Any) -> LeadRelayConfig:
    """The example config (examples/leadrelay.yaml) with top-level sections replaced."""
    data: dict[str, Any] = yaml.safe_load((ROOT / "examples" / "leadrelay.yaml").read_text())
    data.update(extra)
    return parse_config(yaml.safe_dump(data))


def endpoint(name: str, url: str, **more: Any) -> dict[str, Any]:
    return {"name": name, "url": url, "secret_env": ["T_DELIVERY_SECRET"], **more}


def assigned(lead_id: str, n: int = 0, rep: str = "ana") -> bytes:
    """A `lead.assigned` CloudEvent as the router would publish it (stable id per lead and n)."""
    now = datetime.now(UTC)
    payload = LeadAssigned(
        decision_id=stable_id("t", lead_id, str(n)),
        source="api",
        rep_id=rep,
        team="inbound-amer",
        policy="round_robin",
        reasons=[Reason(code="round_robin", message=f"round robin: next in rotation is {rep}")],
        decided_at=now,
    )
    event = CloudEvent.wrap(
        payload,
        subject=lead_id,
        source="leadrelay/router",
        time=now,
        event_id=stable_id("test-event", f"{lead_id}/{n}"),
    )
    return event.to_bytes()
