"""Lead score = fit (who they are, CEL rules with points) + engagement (signals, decayed by age).

Engagement decays exponentially with a configurable half-life, measured from each signal's event
time to the decision's event time, so replaying history gives the same scores as live. In CEL the
score is a map: `score.total`, `score.fit`, `score.engagement`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import cel

from shared.config.schema import ScoringConfig

_EVAL_ERRORS = (ValueError, TypeError, KeyError, RuntimeError)


@dataclass(frozen=True)
class Score:
    fit: float
    engagement: float
    breakdown: tuple[dict[str, Any], ...]

    @property
    def total(self) -> float:
        return round(self.fit + self.engagement, 2)

    def cel(self) -> dict[str, float]:
        return {"total": self.total, "fit": self.fit, "engagement": self.engagement}

    def as_json(self) -> dict[str, Any]:
        return {**self.cel(), "breakdown": list(self.breakdown)}


@dataclass(frozen=True)
class _FitRule:
    name: str
    expression: str
    points: float
    program: Any


class Scorer:
    def __init__(self, config: ScoringConfig) -> None:
        self.half_life_s = config.half_life_days * 86_400
        self.fit_rules = [_FitRule(r.name, r.when, r.points, cel.compile(r.when)) for r in config.fit]
        self.engagement = dict(config.engagement)

    def score(self, context: Any, signals: Sequence[tuple[str, datetime]], now: datetime) -> Score:
        breakdown: list[dict[str, Any]] = []
        fit = 0.0
        for rule in self.fit_rules:
            try:
                hit = rule.program.execute(context) is True
            except _EVAL_ERRORS as exc:
                breakdown.append({"part": "fit", "name": rule.name, "points": 0, "error": str(exc)[:200]})
                continue
            if hit:
                fit += rule.points
                breakdown.append({"part": "fit", "name": rule.name, "points": rule.points})
        engagement: dict[str, float] = {}
        for signal, at in signals:
            points = self.engagement.get(signal)
            if not points:
                continue
            age_s = max(0.0, (now - at).total_seconds())
            engagement[signal] = engagement.get(signal, 0.0) + points * 0.5 ** (age_s / self.half_life_s)
        for signal, points in sorted(engagement.items()):
            breakdown.append({"part": "engagement", "name": signal, "points": round(points, 2)})
        return Score(round(fit, 2), round(sum(engagement.values()), 2), tuple(breakdown))
