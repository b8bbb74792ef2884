"""Per-source rate limit: a token bucket per source, in this process's memory.

Each ingest instance limits on its own; with N instances behind a balancer the effective
limit is N times the configured one (documented in docs/ingest.md).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field


@dataclass
class TokenBucket:
    per_second: float
    burst: int
    _tokens: float = field(init=False)
    _at: float = field(init=False)

    def __post_init__(self) -> None:
        self._tokens = float(self.burst)
        self._at = time.monotonic()

    def take(self) -> float:
        """0 when a request may pass (and is counted); otherwise the seconds until one may."""
        now = time.monotonic()
        self._tokens = min(float(self.burst), self._tokens + (now - self._at) * self.per_second)
        self._at = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return 0.0
        return (1.0 - self._tokens) / self.per_second

    @staticmethod
    def retry_after(wait_s: float) -> str:
        return str(max(1, math.ceil(wait_s)))
