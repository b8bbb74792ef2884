"""HubSpot owner write-back: `PATCH /crm/v3/objects/contacts/{contactId}` with
`{"properties": {"hubspot_owner_id": ...}}`, authenticated by a private app's access token.

Leads from a HubSpot source have lead id `hubspot:<objectId>` (services/ingest/sources/hubspot.py).
Rate limits: HubSpot answers 429, sometimes with `Retry-After`, and always reports its window in
`X-HubSpot-RateLimit-Interval-Milliseconds` (with `-Remaining` / `-Secondly-Remaining`); the wait is
the Retry-After when given, else one window (one second when only the per-second limit is hit).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from urllib.parse import quote

import httpx

from services.delivery.clock import Clock
from services.delivery.config import HubSpotCrmConfig
from services.delivery.outcome import MAX_RETRY_AFTER_S, Outcome, parse_retry_after
from services.delivery.repository import Message
from services.delivery.senders import post
from shared.events import CloudEvent, Event, LeadAssigned, LeadReassigned

PREFIX = "hubspot:"


class HubSpotOwnerAdapter:
    name = "hubspot"

    def __init__(
        self, config: HubSpotCrmConfig, sources: set[str], client: httpx.AsyncClient, clock: Clock
    ) -> None:
        self._config = config
        self._sources = sources  # config source names whose kind is hubspot
        self._client = client
        self._clock = clock
        self.schedule: Sequence[float] = config.schedule_s
        self.concurrency = 4  # HubSpot allows ~10 requests/s per portal; stay well under it

    def wants(self, event: CloudEvent, payload: Event) -> bool:
        return (
            isinstance(payload, LeadAssigned | LeadReassigned)
            and payload.source in self._sources
            and event.subject.startswith(PREFIX)
        )

    async def send(self, message: Message) -> Outcome:
        event = CloudEvent.from_bytes(message.body)
        rep_id = event.data.get("rep_id")
        owner = self._config.owners.get(rep_id) if isinstance(rep_id, str) else None
        if owner is None:
            return Outcome(
                False,
                None,
                f"no HubSpot owner id for rep {rep_id!r} under crm.hubspot.owners",
                permanent=True,
            )
        token = os.environ.get(self._config.token_env)
        if not token:
            return Outcome(False, None, f"{self._config.token_env} is not set (the private app token)")
        contact = quote(message.lead_id[len(PREFIX) :], safe="")
        url = f"{self._config.base_url.rstrip('/')}/crm/v3/objects/contacts/{contact}"
        body = json.dumps({"properties": {"hubspot_owner_id": owner}}).encode()
        headers = {"authorization": f"Bearer {token}", "content-type": "application/json"}
        outcome = await post(
            self._client, url, body, headers, self._config.timeout_s, self._clock, "PATCH", self.retry_after
        )
        if outcome.status_code == 404:
            return Outcome(False, 404, "404: no such contact in HubSpot", permanent=True)
        return outcome

    def retry_after(self, headers: httpx.Headers) -> float:
        """How long HubSpot asks us to wait after a 429."""
        given = parse_retry_after(headers.get("retry-after"), self._clock.now())
        if given is not None:
            return given
        if headers.get("x-hubspot-ratelimit-secondly-remaining") == "0":
            return 1.0
        interval_ms = headers.get("x-hubspot-ratelimit-interval-milliseconds")
        try:
            return min(float(interval_ms) / 1000, MAX_RETRY_AFTER_S) if interval_ms else 10.0
        except ValueError:
            return 10.0
