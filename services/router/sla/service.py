"""The SLA feature's use cases on an open transaction: start clocks when a rep is assigned.

Stopping clocks (sales feedback) is in `feedback.py`, firing timers in `ladder.py` and
`timer_loop.py`. Every instant "now" comes from the injected `Clock`, so tests can run days
of business time in seconds; event ids are stable, so reprocessing never mints new ones.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.router.domain.routing import Assignment
from services.router.domain.rules import cel_context
from services.router.sla.clock import NoBusinessTimeError
from services.router.sla.envelope import EVENT_SOURCE, whole_seconds, wrap
from services.router.sla.policy import schedule
from services.router.sla.repository import ClockRow, SlaRepository
from services.router.sla.setup import SlaSetup
from services.router.sla.time_source import Clock
from shared.events import CloudEvent, LeadCaptured, SlaStarted, stable_id
from shared.logging import get_logger

log = get_logger(__name__)
__all__ = ["EVENT_SOURCE", "SlaService", "whole_seconds", "wrap"]  # wrap: older imports keep working


class SlaService:
    def __init__(self, setup: SlaSetup, clock: Clock) -> None:
        self.setup = setup
        self.clock = clock

    async def start(
        self, session: AsyncSession, event: CloudEvent, captured: LeadCaptured, assignment: Assignment
    ) -> list[CloudEvent]:
        """Open a clock (and its timer rows) for every policy that applies; their `sla.started` events."""
        if not self.setup.policies:
            return []
        context = {**cel_context(captured.lead, captured.source), "team": assignment.team}
        policies, problems = self.setup.applicable(context)
        for problem in problems:
            log.warning("sla_condition_error", lead_id=event.subject, **problem.detail)
        repo = SlaRepository(session)
        now = self.clock.now()
        events = []
        for policy in policies:
            calendar = self.setup.calendar_for(policy, assignment.team, assignment.rep_id)
            try:
                planned = schedule(policy, calendar, now, [], now)
            except NoBusinessTimeError as exc:
                log.error(
                    "sla_calendar_never_open", lead_id=event.subject, policy=policy.name, error=f"{exc}"
                )
                continue
            clock_id = stable_id(event.id, "sla", policy.name)
            clock = ClockRow(
                clock_id=clock_id,
                lead_id=event.subject,
                policy=policy.name,
                target=policy.target.event,
                team=assignment.team,
                rep_id=assignment.rep_id,
                source=captured.source,
                captured_at=captured.received_at,
                started_at=now,
                breach_at=planned.breach_at,
                status="open",
            )
            await repo.open_clock(clock, [(stable_id(clock_id, t.key), t) for t in planned.timers])
            warning = next((t.at for t in planned.timers if t.kind == "warning"), None)
            started = SlaStarted(
                clock_id=clock_id,
                policy=policy.name,
                target=policy.target.event,
                team=assignment.team,
                rep_id=assignment.rep_id,
                started_at=now,
                target_seconds=policy.target_seconds(calendar),
                warning_at=warning,
                breach_at=planned.breach_at or now,
                timezone=calendar.timezone,
                system_delay_seconds=whole_seconds(captured.received_at, now),
            )
            events.append(wrap(started, event.subject, now, clock_id))
        return events
