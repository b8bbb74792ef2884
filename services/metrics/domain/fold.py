"""The per-lead fold: a lead's facts, in any order, to its row and its per-stage times.

Pure and order-independent: facts are sorted by event time first, so a late or out-of-order
event lands where it happened, and folding the same facts twice gives the same result
(which is what makes replay and re-import safe).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

from services.metrics.domain.facts import Fact
from services.metrics.domain.stages import EXITS, HOLDS, MAIN_PATH, RANK

# Transitions at the same instant are ordered along the path (a qualification is captured →
# reviewed → mql in one event); holds sit before assignment, exits after everything.
ORDER: dict[str, float] = {s: float(i) for i, s in enumerate(MAIN_PATH)} | {"queued": RANK["mql"] + 0.5}
ORDER |= {s: len(MAIN_PATH) + i for i, s in enumerate(EXITS)}
ASSIGNING = ("lead.assigned", "lead.reassigned")
VALUED = ("activity.won", "activity.opportunity_created", "activity.stage_changed")
# The per-lead "first reached" columns: stage -> column.
REACHED_COLUMNS = {
    "mql": "mql_at",
    "assigned": "assigned_at",
    "sal": "sal_at",
    "sql": "sql_at",
    "won": "won_at",
    "lost": "lost_at",
    "disqualified": "disqualified_at",
    "nurturing": "nurturing_at",
    "rejected": "rejected_at",
    "queued": "queued_at",
}
assert set(REACHED_COLUMNS) <= set(MAIN_PATH) | set(EXITS) | set(HOLDS)


@dataclass
class StageTime:
    stage: str
    first_at: datetime
    last_at: datetime
    entries: int = 1
    # Cumulative time in the stage over every closed stint (re-entries add up); None while the lead
    # has never left it, so an open stint never drags an average down.
    seconds: float | None = None


@dataclass
class LeadState:
    lead_id: str
    source: str | None = None
    campaign: str | None = None
    product_line: str | None = None
    team: str | None = None
    rep_id: str | None = None
    captured_at: datetime | None = None
    first_touch_at: datetime | None = None
    furthest_rank: int | None = None
    deal_value: float | None = None
    expected_close: date | None = None
    sla_first_touch: str | None = None  # met | breached, from the router's first-touch clock
    reached: dict[str, datetime] = field(default_factory=dict)  # REACHED_COLUMNS stage -> first time
    stages: dict[str, StageTime] = field(default_factory=dict)

    def columns(self) -> dict[str, object]:
        """The `metrics_leads` row (without updated_at)."""
        row: dict[str, object] = {
            "lead_id": self.lead_id,
            "source": self.source,
            "campaign": self.campaign,
            "product_line": self.product_line,
            "team": self.team,
            "rep_id": self.rep_id,
            "captured_at": self.captured_at,
            "first_touch_at": self.first_touch_at,
            "furthest_rank": self.furthest_rank,
            "deal_value": self.deal_value,
            "expected_close": self.expected_close,
            "sla_first_touch": self.sla_first_touch,
        }
        return row | {col: self.reached.get(stage) for stage, col in REACHED_COLUMNS.items()}


def _latest(facts: list[Fact], attr: str, types: tuple[str, ...] | None = None) -> object:
    for f in reversed(facts):
        value = getattr(f, attr)
        if value is not None and (types is None or f.type in types):
            return value
    return None


def fold(lead_id: str, facts: Iterable[Fact]) -> LeadState:
    ordered = sorted(facts, key=lambda f: (f.occurred_at, min((ORDER[s] for s in f.stages), default=-1)))
    state = LeadState(lead_id)
    captured = [f for f in ordered if f.type == "lead.captured"]
    origin = captured[0] if captured else None
    state.captured_at = origin.occurred_at if origin else None
    state.source = (origin.source if origin else None) or _str(_latest(ordered[::-1], "source"))
    state.campaign = origin.campaign if origin else _str(_latest(ordered, "campaign"))
    state.product_line = origin.product_line if origin else _str(_latest(ordered, "product_line"))
    state.team = _str(_latest(ordered, "team", ASSIGNING) or _latest(ordered, "team"))
    state.rep_id = _str(_latest(ordered, "rep_id", ASSIGNING) or _latest(ordered, "rep_id"))
    touches = [f.occurred_at for f in ordered if f.type == "activity.first_touch"]
    state.first_touch_at = touches[0] if touches else None
    won_value = _latest(ordered, "value", ("activity.won",))
    value = won_value if won_value is not None else _latest(ordered, "value", VALUED)
    state.deal_value = float(value) if isinstance(value, int | float) else None
    close = _latest(ordered, "expected_close")
    state.expected_close = close if isinstance(close, date) else None
    state.sla_first_touch = _sla(ordered)
    _fold_stages(state, ordered)
    return state


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _sla(ordered: list[Fact]) -> str | None:
    outcomes = [
        f
        for f in ordered
        if f.type in ("sla.met", "sla.breached") and f.detail.get("target") == "first_touch"
    ]
    if not outcomes:
        return None
    breached = any(f.type == "sla.breached" or not f.detail.get("within_target") for f in outcomes)
    return "breached" if breached else "met"


def _fold_stages(state: LeadState, ordered: list[Fact]) -> None:
    transitions = [(f.occurred_at, s) for f in ordered for s in sorted(f.stages, key=ORDER.__getitem__)]
    current: str | None = None
    entered: datetime | None = None
    for at, stage in transitions:
        known = state.stages.get(stage)
        if known is None:
            state.stages[stage] = StageTime(stage, at, at)
        else:
            known.entries += 1
            known.first_at, known.last_at = min(known.first_at, at), max(known.last_at, at)
        if stage != current:
            if current is not None and entered is not None:
                left = state.stages[current]
                left.seconds = (left.seconds or 0.0) + (at - entered).total_seconds()
            current, entered = stage, at
        if stage in REACHED_COLUMNS and stage not in state.reached:
            state.reached[stage] = at
        if stage in RANK and (state.furthest_rank is None or RANK[stage] > state.furthest_rank):
            state.furthest_rank = RANK[stage]
