"""`leadrelay import`: historical leads and activities from a CSV, with their own event times.

Columns: lead_id, event, occurred_at (ISO 8601 with a zone), and optionally source, campaign,
product_line, rep, team, value, reason. Each row becomes one fact whose id is a hash of the
row's content, so importing the same file again adds nothing. Rows go straight into the metrics
log (not to Kafka: the router must not re-route history). No row is dropped silently: every
rejected row is reported with its line and why.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TextIO

from services.metrics.domain.facts import Fact
from shared.events import stable_id

# event -> (fact type, stages), in the stage model's own terms.
EVENTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "captured": ("lead.captured", ("captured",)),
    "mql": ("lead.qualified", ("reviewed", "mql")),
    "disqualified": ("lead.disqualified", ("reviewed", "disqualified")),
    "nurtured": ("lead.nurtured", ("reviewed", "nurturing")),
    "assigned": ("lead.assigned", ("assigned",)),
    "first_touch": ("activity.first_touch", ()),
    "accepted": ("activity.accepted", ("sal",)),
    "rejected": ("activity.rejected", ("rejected",)),
    "opportunity_created": ("activity.opportunity_created", ("sql",)),
    "won": ("activity.won", ("won",)),
    "lost": ("activity.lost", ("lost",)),
}
REQUIRED = ("lead_id", "event", "occurred_at")
OPTIONAL = ("source", "campaign", "product_line", "rep", "team", "value", "reason")


@dataclass(frozen=True)
class Rejected:
    line: int
    reason: str


@dataclass
class Parsed:
    facts: list[tuple[int, Fact]] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    rows: int = 0


class ImportFileError(ValueError):
    """The file itself cannot be imported (no header, missing columns)."""


def _row_fact(line: int, row: dict[str, str]) -> Fact | str:
    lead_id, event, when = (row.get(k, "").strip() for k in REQUIRED)
    if not lead_id:
        return "empty lead_id"
    if event not in EVENTS:
        return f"unknown event {event[:40]!r} (use one of: {', '.join(EVENTS)})"
    try:
        at = datetime.fromisoformat(when.replace("Z", "+00:00"))
    except ValueError:
        return f"bad date {when[:40]!r}: use ISO 8601, like 2025-03-01T09:30:00Z"
    if at.tzinfo is None:
        return f"date {when[:40]!r} has no time zone: add Z or +hh:mm"
    extra = {k: (row.get(k) or "").strip() or None for k in OPTIONAL}
    value = None
    if extra["value"] is not None:
        try:
            value = float(extra["value"])
        except ValueError:
            return f"value {extra['value'][:40]!r} is not a number"
        if value < 0 or value != value:
            return f"value {extra['value'][:40]!r} must be zero or more"
    type_, stages = EVENTS[event]
    key = [lead_id, event, at.isoformat(), *(extra[k] or "" for k in OPTIONAL)]
    return Fact(
        event_id=stable_id("import", *key),
        lead_id=lead_id,
        type=type_,
        occurred_at=at,
        stages=stages,
        source=extra["source"],
        campaign=extra["campaign"],
        product_line=extra["product_line"],
        team=extra["team"],
        rep_id=extra["rep"],
        value=value,
        reason=extra["reason"],
        detail={"imported": True},
    )


def parse(handle: TextIO) -> Parsed:
    reader = csv.DictReader(handle)
    missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
    if missing:
        raise ImportFileError(
            f"the header lacks {', '.join(missing)}; columns: {', '.join(REQUIRED + OPTIONAL)}"
        )
    out = Parsed()
    for row in reader:
        out.rows += 1
        line = reader.line_num
        fact = _row_fact(line, row)
        if isinstance(fact, str):
            out.rejected.append(Rejected(line, fact))
        else:
            out.facts.append((line, fact))
    return out


def check_capture(parsed: Parsed, known_captures: dict[str, datetime]) -> list[Fact]:
    """Keep the facts that follow their lead's capture (from the file or already stored)."""
    captured = dict(known_captures)
    for _, f in parsed.facts:
        if f.type == "lead.captured" and (f.lead_id not in captured or f.occurred_at < captured[f.lead_id]):
            captured[f.lead_id] = f.occurred_at
    kept = []
    for line, f in parsed.facts:
        start = captured.get(f.lead_id)
        if start is None:
            parsed.rejected.append(Rejected(line, "no captured event for this lead (in the file or stored)"))
        elif f.occurred_at < start:
            parsed.rejected.append(Rejected(line, f"before the lead's capture ({start.isoformat()})"))
        else:
            kept.append(f)
    parsed.rejected.sort(key=lambda r: r.line)
    return kept


def lead_ids(facts: Iterable[Fact]) -> list[str]:
    return list(dict.fromkeys(f.lead_id for f in facts))
