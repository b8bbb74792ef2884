"""Exponential backoff for retry loops: first, then doubling up to a cap; reset on success."""

from __future__ import annotations

import asyncio


class Backoff:
    def __init__(self, first_s: float = 0.2, cap_s: float = 5.0) -> None:
        self._first_s = first_s
        self._cap_s = cap_s
        self.delay_s = first_s

    async def wait(self) -> None:
        """Sleep the current delay, then double it (up to the cap) for the next failure."""
        await asyncio.sleep(self.delay_s)
        self.delay_s = min(self.delay_s * 2, self._cap_s)

    def reset(self) -> None:
        self.delay_s = self._first_s
