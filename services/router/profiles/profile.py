"""One person's profile: every submission merged, with the engagement signals and their times.

Newer non-empty values win field by field; signals accumulate with their event time (scoring
decays them by age). A submission from a person routed within the duplicate window enriches the
profile and is not routed again.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from shared.events import LeadData

MAX_SIGNALS = 200  # a profile keeps the most recent ones; older ones have decayed to nothing


@dataclass(frozen=True)
class Profile:
    key: str
    lead_id: str  # the first lead id this person came in with
    fields: dict[str, Any]  # the merged canonical lead, JSON form
    signals: tuple[tuple[str, datetime], ...]
    source: str
    first_seen: datetime
    last_seen: datetime
    submissions: int = 1
    routed_at: datetime | None = None
    outcome: str | None = None
    owner: str | None = None
    team: str | None = None
    account: str | None = None
    score: float | None = None

    def lead(self) -> LeadData:
        return LeadData.model_validate(self.fields)

    def is_duplicate(self, at: datetime, window: timedelta) -> bool:
        """Already routed, and this submission comes within the window of the previous one."""
        return self.routed_at is not None and abs(at - self.last_seen) <= window


def _signals(lead: LeadData, at: datetime) -> list[tuple[str, datetime]]:
    return [("form", at), *((s, at) for s in lead.signals)]


def merge(
    before: Profile | None, key: str, lead_id: str, lead: LeadData, source: str, at: datetime
) -> Profile:
    given = lead.model_dump(mode="json", exclude_none=True)
    if before is None:
        return Profile(key, lead_id, given, tuple(_signals(lead, at)), source, at, at)
    fields = dict(before.fields)
    for name, value in given.items():
        if value in ("", [], {}):
            continue
        if name == "signals":
            fields[name] = sorted({*fields.get(name, []), *value})
        elif name in ("utm", "custom"):
            fields[name] = {**fields.get(name, {}), **value}
        elif at >= before.last_seen or name not in fields:  # an older event never overwrites newer data
            fields[name] = value
    signals = sorted((*before.signals, *_signals(lead, at)), key=lambda s: s[1])[-MAX_SIGNALS:]
    return replace(
        before,
        fields=fields,
        signals=tuple(signals),
        first_seen=min(before.first_seen, at),
        last_seen=max(before.last_seen, at),
        submissions=before.submissions + 1,
    )
