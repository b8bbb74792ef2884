"""SLA domain: business calendars, the business-time clock, SLA policies and their timers.

Pure code: no I/O, no Kafka, no SQL. Handlers and the timer table live elsewhere.
"""

from services.router.sla.calendar import Calendar, HolidaySource, Interval
from services.router.sla.clock import NoBusinessTimeError, Pause, business_seconds, deadline
from services.router.sla.policy import (
    BusinessDuration,
    Elapsed,
    EscalationStep,
    SlaPolicy,
    SlaSchedule,
    Target,
    Timer,
    WarnAt,
    elapsed,
    schedule,
)
from services.router.sla.time_source import Clock, ManualClock, SystemClock

__all__ = [
    "BusinessDuration",
    "Calendar",
    "Clock",
    "Elapsed",
    "EscalationStep",
    "HolidaySource",
    "Interval",
    "ManualClock",
    "NoBusinessTimeError",
    "Pause",
    "SlaPolicy",
    "SlaSchedule",
    "SystemClock",
    "Target",
    "Timer",
    "WarnAt",
    "business_seconds",
    "deadline",
    "elapsed",
    "schedule",
]
