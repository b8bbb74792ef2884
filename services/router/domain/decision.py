"""One routing decision for one captured lead, in two pure steps around the routing state.

`assess` merges the submission into the person's profile, matches the account, scores, applies
the rules and picks the team; `place` takes that team's state snapshot (counters, rotation) and
returns the placement and the next snapshot. The handler loads profiles for a whole batch, then the
states of the teams the batch needs, and writes everything once: no reads in the middle.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

import cel

from services.router.domain.record import Decision, DecisionRecord
from services.router.profiles import AccountMatch, AccountMatcher, Profile, identity_key, merge
from services.router.qualification import Qualification, RuleSet, cel_context
from services.router.routing import (
    LeadFacts,
    Placement,
    Team,
    TeamState,
    choose_team,
    place,
    teams_from_config,
)
from services.router.scoring import Score, Scorer
from shared.config import LeadRelayConfig
from shared.config.schema import ProfilesConfig, ScoringConfig
from shared.events import LeadData, Reason

__all__ = ["Assessment", "Decision", "DecisionRecord", "Router", "TeamChoice", "Triage"]


@dataclass(frozen=True)
class TeamChoice:
    team: Team
    reason: Reason


@dataclass(frozen=True)
class Triage:
    """The qualification and, for a qualified lead, the team that will route it."""

    qualification: Qualification
    team: TeamChoice | None


@dataclass(frozen=True)
class Assessment:
    lead_id: str
    event_id: str
    event_time: datetime
    source: str
    profile: Profile
    duplicate_of: str | None
    account: AccountMatch | None
    score: Score
    triage: Triage
    facts: LeadFacts


def _facts(fields: dict[str, Any], account: AccountMatch | None) -> LeadFacts:
    employees = fields.get("employees")
    return LeadFacts(
        country=fields.get("country"),
        employees=employees if isinstance(employees, int) else None,
        industry=fields.get("industry"),
        account=account.name if account else None,
        account_owner=account.owner if account else None,
    )


class Router:
    def __init__(
        self,
        rules: RuleSet,
        teams: list[Team],
        *,
        scorer: Scorer | None = None,
        matcher: AccountMatcher | None = None,
        profiles: ProfilesConfig | None = None,
        config_version: str | None = None,
    ) -> None:
        if not teams:
            raise ValueError("routing needs at least one team")
        self.rules = rules
        self.teams = teams
        self.scorer = scorer or Scorer(ScoringConfig())
        self.profiles = profiles or ProfilesConfig()
        self.matcher = matcher or AccountMatcher([], self.profiles.free_mail_domains)
        self.window = timedelta(seconds=self.profiles.duplicate_window_s)
        self.config_version = config_version

    @classmethod
    def from_config(cls, config: LeadRelayConfig, version: str | None = None) -> Router:
        return cls(
            RuleSet.from_config(config.qualification),
            teams_from_config(config.routing, dict(config.calendars)),
            scorer=Scorer(config.scoring),
            matcher=AccountMatcher(config.accounts, config.profiles.free_mail_domains),
            profiles=config.profiles,
            config_version=version,
        )

    def _triage(self, context: Any) -> Triage:
        """`context`: a dict, or a `cel.Context` built once per lead (converting a dict costs more
        than evaluating a rule, and every rule and team match would convert it again)."""
        qualification = self.rules.evaluate_context(context)
        if qualification.outcome != "qualified":
            return Triage(qualification, None)  # only MQLs are routed
        team, reason = choose_team(self.teams, context, qualification.route_to, qualification.route_rule)
        return Triage(qualification, TeamChoice(team, reason))

    def triage(self, lead: LeadData, source: str) -> Triage:
        """Rules and team for a lone lead (no profile history), as `rules test` shows it."""
        return self._triage(cel.Context(cel_context(lead, source)))

    def assess(
        self, lead_id: str, event_id: str, lead: LeadData, source: str, at: datetime, before: Profile | None
    ) -> Assessment:
        key = identity_key(lead, self.profiles.identity_keys)
        duplicate_of = before.lead_id if before is not None and before.is_duplicate(at, self.window) else None
        profile = merge(before, key, lead_id, lead, source, at)
        owned = before is not None and before.owner is not None
        return self.evaluate(profile, lead_id, event_id, source, at, duplicate_of, owned)

    def evaluate(
        self,
        profile: Profile,
        lead_id: str,
        event_id: str,
        source: str,
        at: datetime,
        duplicate_of: str | None = None,
        owned: bool = False,
    ) -> Assessment:
        """Account, score, rules and team for a merged profile (what backtests replay)."""
        fields = profile.fields
        email = str(fields.get("email", ""))
        account = self.matcher.match(email, fields.get("company"))
        account_json = account.as_json() if account else {}
        score = self.scorer.score(cel.Context({"lead": fields, "account": account_json}), profile.signals, at)
        context = {
            "lead": fields,
            "source": source,
            "score": score.cel(),
            "account": account_json,
            "profile": {"submissions": profile.submissions, "free_mail": self.matcher.is_free_mail(email)},
        }
        if duplicate_of is not None:
            triage = Triage(Qualification("qualified" if owned else "nurtured", None, ()), None)
        else:
            triage = self._triage(cel.Context(context))
        return Assessment(
            lead_id,
            event_id,
            at,
            source,
            profile,
            duplicate_of,
            account,
            score,
            triage,
            _facts(fields, account),
        )

    def place(self, assessment: Assessment, state: TeamState, now: datetime) -> tuple[Placement, TeamState]:
        choice = assessment.triage.team
        assert choice is not None, "only leads with a team are placed"
        placed, after = place(choice.team, state, assessment.facts, now)
        return replace(placed, reasons=(choice.reason, *placed.reasons)), after

    def decide(self, assessment: Assessment, placement: Placement | None, decided_at: datetime) -> Decision:
        return Decision(
            lead_id=assessment.lead_id,
            trigger_event_id=assessment.event_id,
            event_time=assessment.event_time,
            source=assessment.source,
            ruleset_version=self.rules.version,
            qualification=assessment.triage.qualification,
            placement=placement,
            decided_at=decided_at,
            score=assessment.score,
            account=assessment.account,
            profile_key=assessment.profile.key,
            duplicate_of=assessment.duplicate_of,
            config_version=self.config_version,
        )

    @staticmethod
    def profile_after(assessment: Assessment) -> Profile:
        """The profile to store: what was decided, and when it was routed (for the duplicate window).

        A qualified lead is routed (assigned or queued) whatever the placement, so this is known
        before the routing state is read; the owner is added once placed.
        """
        account = assessment.account.name if assessment.account else None
        profile = replace(assessment.profile, score=assessment.score.total, account=account)
        if assessment.duplicate_of is not None:
            return profile
        routed = assessment.triage.team is not None
        return replace(
            profile,
            outcome=assessment.triage.qualification.outcome,
            routed_at=assessment.event_time if routed else profile.routed_at,
        )
