"""take_profit: a fixed target `pct` percent in favour of the entry price (a limit order)."""

from __future__ import annotations

from numba import njit

from strategy.components.base import ComponentType, Param


@njit(cache=True)
def level(side, entry, pct):
    return entry * (1.0 + side * pct / 100.0)


TAKE_PROFIT = ComponentType(
    type="take_profit",
    kind="exit",
    description="Exits at a limit `pct` percent in favour of the entry (checked inside candles).",
    params=(
        Param(
            "pct",
            "number",
            2.0,
            "Target distance from entry (%)",
            min=0,
            max=10000,
            exclusive_min=True,
        ),
    ),
    outputs=("target_price",),
)
