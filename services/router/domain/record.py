"""The finished decision about one captured lead: its stored records, its events, its explanation.

`explained()` is the decision record users read (the `lead.assigned` payload carries it, the
`router_decisions` rows store it, `leadrelay rules test` prints it): rules evaluated with their
results, the score breakdown, the account, candidates, who was skipped and why, the owner, the
policy and the rules and config versions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.router.profiles import AccountMatch
from services.router.qualification import Qualification
from services.router.routing import Assignment, Placement, Queued
from services.router.scoring import Score
from shared.events import (
    CloudEvent,
    Event,
    LeadAssigned,
    LeadDisqualified,
    LeadNurtured,
    LeadQualified,
    LeadQueued,
    QualificationDecided,
    Reason,
    stable_id,
)

EVENT_SOURCE = "leadrelay/router"
_QUALIFICATION_EVENTS: dict[str, type[QualificationDecided]] = {
    "qualified": LeadQualified,
    "disqualified": LeadDisqualified,
    "nurtured": LeadNurtured,
}


@dataclass(frozen=True)
class DecisionRecord:
    """One stored line of a lead's decision history (what the timeline shows)."""

    decision_id: str
    lead_id: str
    trigger_event_id: str
    kind: str
    outcome: str
    reasons: list[dict[str, Any]]
    event_time: datetime
    decided_at: datetime
    rule: str | None = None
    ruleset_version: str | None = None
    team: str | None = None
    rep_id: str | None = None
    policy: str | None = None
    detail: dict[str, Any] | None = None


@dataclass(frozen=True)
class Decision:
    lead_id: str
    trigger_event_id: str
    event_time: datetime
    source: str
    ruleset_version: str
    qualification: Qualification
    placement: Placement | None
    decided_at: datetime
    score: Score | None = None
    account: AccountMatch | None = None
    profile_key: str | None = None
    duplicate_of: str | None = None
    config_version: str | None = None
    # The trigger's W3C trace context, carried on every event the decision emits (one lead, one trace).
    traceparent: str | None = None

    def _id(self, what: str) -> str:
        return stable_id(self.trigger_event_id, what)

    def explained(self) -> dict[str, Any]:
        q, p = self.qualification, self.placement
        record: dict[str, Any] = {
            "lead_id": self.lead_id,
            "event_id": self.trigger_event_id,
            "ruleset_version": self.ruleset_version,
            "config_version": self.config_version,
            "outcome": "duplicate" if self.duplicate_of else q.outcome,
            "rule": q.rule,
            "rules": [r.model_dump(mode="json") for r in q.reasons],
            "errors": q.errors,
            "score": self.score.as_json() if self.score else None,
            "account": self.account.as_json() if self.account else None,
            "profile": {"key": self.profile_key, "duplicate_of": self.duplicate_of},
        }
        if p is not None:
            detail = next((r.detail for r in p.reasons if "candidates" in r.detail), {})
            record["routing"] = {
                "team": p.team,
                "policy": p.policy,
                "owner": p.rep_id if isinstance(p, Assignment) else None,
                "queue": p.queue if isinstance(p, Queued) else None,
                "candidates": detail.get("candidates", []),
                "eligible": detail.get("eligible", []),
                "skipped": detail.get("skipped", []),
                "reasons": [r.model_dump(mode="json") for r in p.reasons],
            }
        return record

    def _record(self, kind: str, outcome: str, reasons: tuple[Reason, ...], **extra: Any) -> DecisionRecord:
        return DecisionRecord(
            decision_id=self._id(kind),
            lead_id=self.lead_id,
            trigger_event_id=self.trigger_event_id,
            kind=kind,
            outcome=outcome,
            reasons=[r.model_dump(mode="json") for r in reasons],
            event_time=self.event_time,
            decided_at=self.decided_at,
            **extra,
        )

    def records(self) -> list[DecisionRecord]:
        q, p = self.qualification, self.placement
        explained = self.explained()
        if self.duplicate_of is not None:
            reason = Reason(
                code="duplicate_submission",
                message=f"same person as lead {self.duplicate_of}, routed already: profile enriched",
                detail={"lead_id": self.duplicate_of, "profile": self.profile_key},
            )
            return [self._record("profile", "duplicate", (reason,), detail=explained)]
        records = [
            self._record(
                "qualification",
                q.outcome,
                q.reasons,
                rule=q.rule,
                ruleset_version=self.ruleset_version,
                detail=explained,
            )
        ]
        if isinstance(p, Assignment):
            records.append(
                self._record(
                    "assignment", "assigned", p.reasons, team=p.team, rep_id=p.rep_id, policy=p.policy
                )
            )
        elif isinstance(p, Queued):
            records.append(self._record("assignment", "queued", p.reasons, team=p.team, policy=p.policy))
        return records

    def payloads(self) -> list[Event]:
        if self.duplicate_of is not None:
            return []  # enriched, not routed twice: nothing for sales tools
        q, p = self.qualification, self.placement
        common = {"source": self.source, "decided_at": self.decided_at}
        payloads: list[Event] = [
            _QUALIFICATION_EVENTS[q.outcome](
                decision_id=self._id("qualification"),
                ruleset_version=self.ruleset_version,
                rule=q.rule,
                reasons=list(q.reasons),
                **common,
            )
        ]
        if isinstance(p, Assignment):
            payloads.append(
                LeadAssigned(
                    decision_id=self._id("assignment"),
                    rep_id=p.rep_id,
                    team=p.team,
                    policy=p.policy,
                    reasons=list(p.reasons),
                    ruleset_version=self.ruleset_version,
                    score=self.score.total if self.score else None,
                    decision=self.explained(),
                    **common,
                )
            )
        elif isinstance(p, Queued):
            payloads.append(
                LeadQueued(
                    decision_id=self._id("assignment"),
                    team=p.team,
                    queue=p.queue,
                    policy=p.policy,
                    reasons=list(p.reasons),
                    decision=self.explained(),
                    **common,
                )
            )
        return payloads

    def events(self) -> list[CloudEvent]:
        # Decisions happen "at" the lead's event time, so imported history replays into the same funnel.
        return [
            CloudEvent.wrap(
                payload,
                subject=self.lead_id,
                source=EVENT_SOURCE,
                time=self.event_time,
                event_id=self._id(payload.event_type),
                traceparent=self.traceparent,
            )
            for payload in self.payloads()
        ]
