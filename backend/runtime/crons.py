"""Cron declarations: `@cron("*/5 * * * *")` or `@cron(every_s=10)` on a mutation or action
makes the scheduler run it on that schedule (as the system, with `args`).

    @cron("17 * * * *")            # at minute 17 of every hour, UTC
    @mutation(internal=True)
    async def sweep(ctx: Ctx) -> int: ...

Cron expressions are the classic five fields, in UTC (parsed by `cronsim`); `every_s` fires
at multiples of the interval since the Unix epoch, so every process agrees on the ticks.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cronsim import CronSim, CronSimError

MARK = "__plutarc_cron__"


@dataclass(frozen=True)
class CronSpec:
    """When a function runs by itself. Exactly one of `expression` and `every_s` is set."""

    expression: str | None = None
    every_s: float | None = None
    args: dict[str, Any] = field(default_factory=dict)

    @property
    def text(self) -> str:
        """How the schedule is stored: a changed schedule restarts its ticks."""
        return self.expression or f"every {self.every_s:g}s"

    def next_after(self, now: datetime) -> datetime:
        """The first tick strictly after `now` (an aware datetime)."""
        if self.every_s is not None:
            ticks = math.floor(now.timestamp() / self.every_s) + 1
            return datetime.fromtimestamp(ticks * self.every_s, UTC)
        assert self.expression is not None
        return next(CronSim(self.expression, now.astimezone(UTC)))  # strictly after `now`


def cron(
    expression: str | None = None, *, every_s: float | None = None,
    args: dict[str, Any] | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Run the decorated mutation or action on a schedule (see the module docstring)."""
    if (expression is None) == (every_s is None):
        raise ValueError("give a cron expression or every_s, not both")
    if every_s is not None and every_s <= 0:
        raise ValueError("every_s must be positive")
    if expression is not None:
        try:
            CronSim(expression, datetime.now(UTC))
        except CronSimError as exc:
            raise ValueError(f"bad cron expression {expression!r}: {exc}") from None
    spec = CronSpec(expression, every_s, dict(args or {}))

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        setattr(fn, MARK, spec)
        return fn

    return decorate


def cron_of(fn: Callable[..., Any]) -> CronSpec | None:
    return getattr(fn, MARK, None)
