"""Facts: what metrics keeps of each event, PII-free, in one flat shape.

Every event the metrics service handles (live from Kafka, or imported from a CSV) becomes one
`Fact`. Facts are stored as the metrics log (`metrics_events`), and every per-lead figure is a
fold over a lead's facts, so `replay` recomputes the same numbers from the same log. The
captured lead's person fields (email, name, phone) are never kept: only source, campaign and
product line.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any

from services.metrics.domain.stages import stages_for
from shared.events import (
    ActivityRecorded,
    CloudEvent,
    Event,
    LeadAccepted,
    LeadAssigned,
    LeadCaptured,
    LeadQueued,
    LeadReassigned,
    LeadRecycled,
    LeadRejected,
    QualificationDecided,
    SlaBreached,
    SlaMet,
)


@dataclass(frozen=True)
class Fact:
    event_id: str
    lead_id: str
    type: str  # the CloudEvent type; activities as `activity.<kind>`
    occurred_at: datetime  # event time
    stages: tuple[str, ...] = ()
    source: str | None = None
    campaign: str | None = None
    product_line: str | None = None
    team: str | None = None
    rep_id: str | None = None
    value: float | None = None
    expected_close: date | None = None
    reason: str | None = None
    # Decision details for the timeline: reasons, policy, rule, queue, previous rep, SLA outcome...
    detail: dict[str, Any] = field(default_factory=dict)

    def body(self) -> dict[str, Any]:
        """JSON-ready attributes (what `metrics_events.body` holds)."""
        data = asdict(self)
        for key in ("event_id", "lead_id", "type", "occurred_at"):
            data.pop(key)
        data["stages"] = list(self.stages)
        data["expected_close"] = self.expected_close.isoformat() if self.expected_close else None
        return {k: v for k, v in data.items() if v not in (None, {}, [])}

    @classmethod
    def from_row(
        cls, event_id: str, lead_id: str, type_: str, occurred_at: datetime, body: dict[str, Any]
    ) -> Fact:
        close = body.get("expected_close")
        return cls(
            event_id=event_id,
            lead_id=lead_id,
            type=type_,
            occurred_at=occurred_at,
            stages=tuple(body.get("stages", ())),
            source=body.get("source"),
            campaign=body.get("campaign"),
            product_line=body.get("product_line"),
            team=body.get("team"),
            rep_id=body.get("rep_id"),
            value=body.get("value"),
            expected_close=date.fromisoformat(close) if close else None,
            reason=body.get("reason"),
            detail=body.get("detail", {}),
        )


def _reasons(reasons: list[Any]) -> list[dict[str, Any]]:
    return [r.model_dump(mode="json") for r in reasons]


def fact_from_event(event: CloudEvent, payload: Event) -> Fact | None:
    """The fact of one published event; None for events metrics has no use for."""
    base: dict[str, Any] = {"event_id": event.id, "lead_id": event.subject, "occurred_at": event.time}
    stages = stages_for(payload)
    detail: dict[str, Any]
    match payload:
        case LeadCaptured(lead=lead, source=source):
            return Fact(
                **base,
                type=event.type,
                stages=stages,
                source=source,
                campaign=lead.campaign or lead.utm.get("campaign"),
                product_line=lead.product_line,
            )
        case QualificationDecided():
            detail = {"rule": payload.rule, "ruleset_version": payload.ruleset_version}
            detail |= {"decision_id": payload.decision_id, "reasons": _reasons(payload.reasons)}
            return Fact(**base, type=event.type, stages=stages, source=payload.source, detail=detail)
        case LeadAssigned() | LeadReassigned() | LeadQueued():
            detail = {"decision_id": payload.decision_id, "policy": payload.policy}
            detail |= {"reasons": _reasons(payload.reasons), "decided_at": payload.decided_at.isoformat()}
            if isinstance(payload, LeadReassigned):
                detail["previous_rep_id"] = payload.previous_rep_id
            if isinstance(payload, LeadQueued):
                detail["queue"] = payload.queue
            rep = None if isinstance(payload, LeadQueued) else payload.rep_id
            return Fact(
                **base,
                type=event.type,
                stages=stages,
                source=payload.source,
                team=payload.team,
                rep_id=rep,
                detail=detail,
            )
        case LeadAccepted(rep_id=rep) | LeadRejected(rep_id=rep):
            reason = payload.reason if isinstance(payload, LeadRejected) else None
            return Fact(**base, type=event.type, stages=stages, rep_id=rep, reason=reason)
        case LeadRecycled(reason=reason):
            return Fact(**base, type=event.type, stages=stages, reason=reason)
        case ActivityRecorded():
            detail = {k: v for k, v in (("channel", payload.channel), ("crm_stage", payload.stage)) if v}
            return Fact(
                **base,
                type=f"activity.{payload.kind}",
                stages=stages,
                rep_id=payload.rep_id,
                value=payload.value,
                expected_close=payload.expected_close,
                reason=payload.reason,
                detail=detail,
            )
        case SlaMet() | SlaBreached():
            detail = {"policy": payload.policy, "target": payload.target}
            detail["clock_id"] = payload.clock_id
            if isinstance(payload, SlaMet):
                detail |= {
                    "within_target": payload.within_target,
                    "business_seconds": payload.business_seconds,
                }
            return Fact(**base, type=event.type, team=payload.team, rep_id=payload.rep_id, detail=detail)
    return None
