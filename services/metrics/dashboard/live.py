"""Keeping the dashboard's live tables from events: SLA clocks (sla.*) and contacts (lead.captured).

Applied in the projector's transaction, after the inbox claim, so a redelivery changes nothing.
A clock's status only moves forward (open → warned → breached → met), so a late warning never
hides a breach. A pause (sla.paused) takes a running clock off the board's running set until
sla.resumed puts it back with its moved deadlines; events about a paused clock move the status it
will resume to.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.metrics.tables import contacts, sla_clocks
from shared.events import (
    CloudEvent,
    Event,
    LeadCaptured,
    SlaBreached,
    SlaEscalated,
    SlaEvent,
    SlaMet,
    SlaPaused,
    SlaResumed,
    SlaStarted,
    SlaWarning,
)

LIVE_MODELS: tuple[type[Event], ...] = (
    LeadCaptured,
    SlaStarted,
    SlaWarning,
    SlaBreached,
    SlaEscalated,
    SlaPaused,
    SlaResumed,
    SlaMet,
)
_RANK = {"open": 0, "warned": 1, "breached": 2, "met": 3}


def wants(payload: Event) -> bool:
    return isinstance(payload, LIVE_MODELS)


async def apply_live(session: AsyncSession, event: CloudEvent, payload: Event) -> None:
    if isinstance(payload, LeadCaptured):
        await _contact(session, event.subject, payload)
    elif isinstance(payload, SlaEvent):
        await _clock(session, event.subject, payload)


async def _contact(session: AsyncSession, lead_id: str, payload: LeadCaptured) -> None:
    lead = payload.lead
    name = " ".join(p for p in (lead.first_name, lead.last_name) if p) or None
    row = {"email": lead.email, "name": name, "phone": lead.phone, "company": lead.company}
    exists = await session.execute(select(contacts.c.lead_id).where(contacts.c.lead_id == lead_id))
    if exists.first():
        await session.execute(update(contacts).where(contacts.c.lead_id == lead_id).values(**row))
    else:
        await session.execute(insert(contacts).values(lead_id=lead_id, **row))


def _changes(payload: SlaEvent) -> dict[str, Any]:
    """What this event says about the clock (status last: merged by rank below)."""
    owner = {"team": payload.team, "rep_id": payload.rep_id}
    match payload:
        case SlaStarted():
            return owner | {
                "status": "open",
                "started_at": payload.started_at,
                "warning_at": payload.warning_at,
                "breach_at": payload.breach_at,
                "target_seconds": payload.target_seconds,
                "timezone": payload.timezone,
            }
        case SlaWarning():
            return owner | {"status": "warned", "breach_at": payload.breach_at}
        case SlaBreached():
            return owner | {"status": "breached", "target_seconds": payload.target_seconds}
        case SlaEscalated():
            return owner | {"last_action": payload.action}
        case SlaMet():
            return {"status": "met", "closed_at": payload.stopped_at, "pause_reason": None}
        case SlaResumed():
            return owner | {"breach_at": payload.breach_at, "warning_at": payload.warning_at}
    return {}


def _pause_changes(payload: SlaPaused | SlaResumed, status: str, before: str | None) -> dict[str, Any]:
    """Pausing keeps the status to resume to; resuming restores it (a repeat changes nothing)."""
    if isinstance(payload, SlaPaused):
        if status == "paused":
            return {"pause_reason": payload.reason}
        return {"status": "paused", "status_before_pause": status, "pause_reason": payload.reason}
    if status != "paused":
        return {}
    return {"status": before or "open", "status_before_pause": None, "pause_reason": None}


async def _clock(session: AsyncSession, lead_id: str, payload: SlaEvent) -> None:
    changes = _changes(payload) | {"updated_at": datetime.now(UTC)}
    stmt = select(sla_clocks.c.status, sla_clocks.c.escalations, sla_clocks.c.status_before_pause).where(
        sla_clocks.c.clock_id == payload.clock_id
    )
    found = (await session.execute(stmt)).first()
    escalated = 1 if isinstance(payload, SlaEscalated) else 0
    if found is None:
        base: dict[str, Any] = {"clock_id": payload.clock_id, "lead_id": lead_id, "policy": payload.policy}
        base |= {"target": payload.target, "team": payload.team, "rep_id": payload.rep_id}
        row = base | {"status": "open", "escalations": escalated} | changes
        if isinstance(payload, SlaPaused):
            row |= _pause_changes(payload, "open", None)
        await session.execute(insert(sla_clocks).values(**row))
        return
    status, escalations, before = found
    if status == "met":
        changes = {"updated_at": changes["updated_at"]}  # nothing after the stop moves the clock
    elif isinstance(payload, SlaPaused | SlaResumed):
        changes |= _pause_changes(payload, status, before)
    else:
        current = before if status == "paused" else status
        if _RANK.get(changes.get("status", current), 0) < _RANK.get(current, 0):
            # An older event arriving late never moves the clock back.
            changes = {"updated_at": changes["updated_at"]}
        if status == "paused" and "status" in changes and changes["status"] != "met":
            # While paused a status change is where the clock resumes to.
            changes["status_before_pause"] = changes.pop("status")
    changes["escalations"] = escalations + escalated
    await session.execute(
        update(sla_clocks).where(sla_clocks.c.clock_id == payload.clock_id).values(**changes)
    )
