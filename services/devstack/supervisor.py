"""Restart what dies, with backoff; give up loudly only after repeated fast failures.

`leadrelay up` is a dev stack, but the embedded broker and the services can still crash (or be
killed while someone tries things). A supervisor that stopped the world on the first death (as
`up` once did) turns one crash into an outage; one that restarts forever hides a crash loop.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field


class GaveUp(RuntimeError):
    """A child kept dying right after each restart: a bug or a bad config to fix, not to retry."""


@dataclass
class RestartPolicy:
    """Backoff 0.5 s, 1 s, 2 s ... up to `max_delay_s`; more than `max_restarts` restarts within
    `window_s` is a crash loop."""

    max_restarts: int = 5
    window_s: float = 60.0
    max_delay_s: float = 10.0
    clock: Callable[[], float] = time.monotonic
    _recent: deque[float] = field(default_factory=deque)
    _not_before: float = 0.0

    def due(self) -> bool:
        return self.clock() >= self._not_before

    def record(self, name: str) -> float:
        """Count a restart now; returns the delay before the next one may happen."""
        now = self.clock()
        while self._recent and now - self._recent[0] > self.window_s:
            self._recent.popleft()
        self._recent.append(now)
        if len(self._recent) > self.max_restarts:
            raise GaveUp(
                f"{name} died {len(self._recent)} times within {self.window_s:.0f}s; "
                "giving up (see its log for why it cannot stay up)"
            )
        delay: float = min(self.max_delay_s, 0.5 * 2.0 ** (len(self._recent) - 1))
        self._not_before = now + delay
        return delay
