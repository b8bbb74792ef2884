"""The SLA feature's stored shapes as plain values: a clock row and a claimed timer row.

Pure (no SQLAlchemy): the repository reads them, the firing steps (`steps.py`) and feedback
compute on them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from services.router.sla.policy import OpenPause


@dataclass(frozen=True)
class ClockRow:
    clock_id: str
    lead_id: str
    policy: str
    target: str
    team: str
    rep_id: str | None
    source: str
    captured_at: datetime
    started_at: datetime
    breach_at: datetime | None
    status: str
    # Real-time pauses in order, the last one still running when its end is None. Each pause's
    # reason is in `pause_reasons` at the same index (what the activity said, e.g. a CRM stage).
    pauses: tuple[OpenPause, ...] = ()
    pause_reasons: tuple[str, ...] = ()

    @property
    def paused(self) -> bool:
        return bool(self.pauses) and self.pauses[-1][1] is None

    def pause(self, at: datetime, reason: str) -> ClockRow:
        """The clock paused from `at`, never before its start or into an earlier pause (out of order).

        While paused no deadline is known, so `breach_at` is cleared until the resume."""
        if self.paused:
            raise ValueError(f"clock {self.clock_id} is already paused; resume it first")
        floor = max([self.started_at, *(end for _, end in self.pauses if end is not None)])
        begin = max(at, floor)
        return replace(
            self,
            pauses=(*self.pauses, (begin, None)),
            pause_reasons=(*self.pause_reasons, reason),
            breach_at=None,
        )

    def resume(self, at: datetime) -> ClockRow:
        """The running pause ends at `at` (at its own start when `at` is earlier: out of order)."""
        if not self.paused:
            raise ValueError(f"clock {self.clock_id} is not paused")
        begin, _ = self.pauses[-1]
        return replace(self, pauses=(*self.pauses[:-1], (begin, max(at, begin))))


@dataclass(frozen=True)
class DueTimer:
    id: int
    timer_id: str
    clock_id: str
    lead_id: str
    key: str
    kind: str
    action: str | None
    queue: str | None
    step: int | None
    due_at: datetime
