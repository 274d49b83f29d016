"""Market time: either the wall clock sped up by a factor, or a manual clock for tests.

Market time drives candles, trades, order and fill timestamps. The receive window of signed
requests and rate limits never use it: they always use the real wall clock (`wall_ms`), as a
client signs with its own real clock.
"""

from __future__ import annotations

import time


def wall_ms() -> int:
    """Real Unix time in milliseconds."""
    return time.time_ns() // 1_000_000


class Clock:
    """Market clock. In "wall" mode time flows `speed` times faster than real time from
    `start_ms`; in "manual" mode it only moves through `advance`/`advance_to`."""

    def __init__(self, mode: str, start_ms: int, speed: float = 1.0) -> None:
        self.mode = mode
        self.speed = speed
        self._start_ms = start_ms
        self._manual_ms = start_ms
        self._started_at = time.monotonic()

    @property
    def manual(self) -> bool:
        return self.mode == "manual"

    def now_ms(self) -> int:
        if self.manual:
            return self._manual_ms
        elapsed = time.monotonic() - self._started_at
        return self._start_ms + int(elapsed * 1000 * self.speed)

    def advance(self, ms: int) -> int:
        """Move a manual clock forward by `ms`; returns the new time."""
        return self.advance_to(self._manual_ms + ms)

    def advance_to(self, ts_ms: int) -> int:
        """Move a manual clock to `ts_ms` (never backwards); returns the new time."""
        if not self.manual:
            raise ValueError("the clock is the wall clock; start with clock='manual'")
        if ts_ms < self._manual_ms:
            raise ValueError("the clock cannot go backwards")
        self._manual_ms = ts_ms
        return ts_ms

    def real_seconds_until(self, ts_ms: int) -> float:
        """Real seconds a wall-mode clock needs to reach market time `ts_ms`."""
        return max(0.0, (ts_ms - self.now_ms()) / 1000 / self.speed)
