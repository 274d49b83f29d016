"""time_exit: leave at the open after the position has been held `max_bars` candles."""

from __future__ import annotations

from strategy.components.base import ComponentType, Param

TIME_EXIT = ComponentType(
    type="time_exit",
    kind="exit",
    description="Exits at market once the position has been held `max_bars` full candles.",
    params=(Param("max_bars", "integer", 60, "Holding limit in candles", min=1, max=1_000_000),),
    outputs=("bars_held",),
)
