"""The stage model: which events move a lead into which stages.

Main path, in order: captured → reviewed → mql → assigned → sal → sql → won.
Exits: disqualified, nurturing, rejected, lost. "Reached" semantics: a lead counts in
every main-path stage up to the furthest it reached; an exit adds no later stage.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

MAIN_PATH: tuple[str, ...] = ("captured", "reviewed", "mql", "assigned", "sal", "sql", "won")
EXITS: tuple[str, ...] = ("disqualified", "nurturing", "rejected", "lost")
RANK = {stage: index for index, stage in enumerate(MAIN_PATH)}

STAGE_LABELS = {
    "captured": "Captured",
    "reviewed": "Reviewed",
    "mql": "MQL",
    "assigned": "Assigned",
    "sal": "Accepted (SAL)",
    "sql": "SQL / opportunity",
    "won": "Closed-won",
    "disqualified": "Disqualified",
    "nurturing": "Nurturing",
    "rejected": "Rejected",
    "lost": "Closed-lost",
}

_EVENT_STAGES: dict[str, tuple[str, ...]] = {
    "lead.captured": ("captured",),
    "lead.qualified": ("reviewed", "mql"),
    "lead.disqualified": ("reviewed", "disqualified"),
    "lead.nurtured": ("reviewed", "nurturing"),
    "lead.assigned": ("assigned",),
    "lead.reassigned": ("assigned",),
    "lead.accepted": ("sal",),
    "lead.rejected": ("rejected",),
    "lead.recycled": ("nurturing",),
}
_ACTIVITY_STAGES: dict[str, tuple[str, ...]] = {
    "accepted": ("sal",),
    "rejected": ("rejected",),
    "opportunity": ("sql",),
    "won": ("won",),
    "lost": ("lost",),
}


@dataclass(frozen=True)
class Transition:
    lead_id: str
    stage: str
    occurred_at: datetime
    event_id: str
    event_type: str


def stages_for(event_type: str, data: dict[str, Any]) -> tuple[str, ...]:
    if event_type == "activity.recorded":
        return _ACTIVITY_STAGES.get(str(data.get("kind")), ())
    return _EVENT_STAGES.get(event_type, ())


def furthest_rank(stages: list[str] | tuple[str, ...]) -> int | None:
    ranks = [RANK[s] for s in stages if s in RANK]
    return max(ranks) if ranks else None
