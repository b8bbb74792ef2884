"""Topic names, all under one configurable prefix (default `leadrelay.`)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Topics:
    prefix: str = "leadrelay."

    @property
    def lead_events(self) -> str:
        return f"{self.prefix}lead-events"

    @property
    def handoffs(self) -> str:
        return f"{self.prefix}handoffs"

    @property
    def dlq(self) -> str:
        return f"{self.prefix}dlq"

    def all(self) -> tuple[str, ...]:
        return (self.lead_events, self.handoffs, self.dlq)
