"""When a crashed bot is started again, and when it is given up on.

A crash is an instance that ended without being asked to stop. After the n-th crash in a row
the bot is restarted after min(cap, base · 2^(n-1)) seconds (1, 2, 4 … 60 s by default); a run
that lasted `stable_s` resets the streak. The `limit`-th crash within `window_s` (5 in 10
minutes) puts the bot in error instead. Pure: the clock is passed in.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field


@dataclass(frozen=True)
class CrashPolicy:
    base_s: float = 1.0
    cap_s: float = 60.0
    limit: int = 5
    window_s: float = 600.0
    stable_s: float = 300.0


@dataclass
class Crashes:
    """One bot's crash history. Invariant: `times` holds only crashes within `window_s` of
    the latest one, oldest first; `streak` counts crashes since the last stable run."""

    policy: CrashPolicy = field(default_factory=CrashPolicy)
    times: deque[float] = field(default_factory=deque)
    streak: int = 0
    started_at: float | None = None

    def started(self, now: float) -> None:
        self.started_at = now

    def record(self, now: float) -> float | None:
        """A crash at `now`: the delay before the restart, or None to give up (error)."""
        if self.started_at is not None and now - self.started_at >= self.policy.stable_s:
            self.streak = 0
        self.streak += 1
        self.times.append(now)
        while self.times and now - self.times[0] > self.policy.window_s:
            self.times.popleft()
        if len(self.times) >= self.policy.limit:
            return None
        return min(self.policy.cap_s, self.policy.base_s * 2 ** (self.streak - 1))

    @property
    def recent(self) -> int:
        return len(self.times)
