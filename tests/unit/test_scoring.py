"""Scoring: fit rules plus engagement decayed by a half-life, with a breakdown; usable in rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.router.domain.decision import Router
from services.router.scoring import Scorer
from shared.config import parse_config
from shared.config.schema import FitRuleConfig, ScoringConfig
from shared.events import LeadData

pytestmark = pytest.mark.unit
NOW = datetime(2026, 3, 2, 15, tzinfo=UTC)
CONFIG = ScoringConfig(
    half_life_days=10,
    fit=[
        FitRuleConfig(name="big", when="has(lead.employees) && lead.employees >= 100", points=20),
        FitRuleConfig(name="broken", when="lead.employees > 'many'", points=99),
    ],
    engagement={"form": 5, "demo_request": 30},
)


def test_engagement_halves_every_half_life_and_fit_adds_up() -> None:
    score = Scorer(CONFIG).score(
        {"lead": {"employees": 500}},
        [("demo_request", NOW - timedelta(days=10)), ("form", NOW), ("unknown", NOW)],
        NOW,
    )

    assert (score.fit, score.engagement, score.total) == (20.0, 20.0, 40.0)  # 30 / 2 + 5
    assert {"part": "fit", "name": "big", "points": 20.0} in score.breakdown
    assert {"part": "engagement", "name": "demo_request", "points": 15.0} in score.breakdown
    broken = next(p for p in score.breakdown if p["name"] == "broken")
    assert broken["points"] == 0 and "error" in broken  # a faulty fit rule scores nothing, never raises


RULES = """\
qualification:
  version: s1
  rules:
    - {name: hot, when: "score.total >= 40.0 && score.engagement > 0.0", outcome: qualified}
    - {name: fit-only, when: "score.fit >= 20.0", outcome: nurtured}
scoring:
  half_life_days: 10
  fit: [{name: big, when: "has(lead.employees) && lead.employees >= 100", points: 20}]
  engagement: {form: 5, demo_request: 30}
routing:
  teams: [{name: t, reps: [{id: ana, name: Ana}]}]
"""


def test_score_is_usable_in_rules_and_decays_between_submissions() -> None:
    router = Router.from_config(parse_config(RULES, "s.yaml"))
    lead = LeadData(email="a@b.co", employees=500, signals=["demo_request"])

    fresh = router.assess("l", "e", lead, "api", NOW, None)
    assert (fresh.triage.qualification.outcome, fresh.score.total) == ("qualified", 55.0)
    quiet = LeadData(email="a@b.co", employees=500)
    later = router.assess("l", "e2", quiet, "api", NOW + timedelta(days=40), fresh.profile)
    assert later.score.engagement == pytest.approx(30 / 16 + 5 / 16 + 5, abs=0.01)
    # Forty days on the demo request is worth 1/16 of its points: 20 + 7.2 < 40, no longer hot.
    assert (later.triage.qualification.rule, later.triage.qualification.outcome) == ("fit-only", "nurtured")
