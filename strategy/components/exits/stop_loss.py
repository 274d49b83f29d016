"""stop_loss: a fixed stop `pct` percent against the entry price."""

from __future__ import annotations

from numba import njit

from strategy.components.base import ComponentType, Param


@njit(cache=True)
def level(side, entry, pct):
    return entry * (1.0 - side * pct / 100.0)


STOP_LOSS = ComponentType(
    type="stop_loss",
    kind="exit",
    description="Exits when price moves `pct` percent against the entry (checked inside candles).",
    params=(
        Param(
            "pct", "number", 1.0, "Stop distance from entry (%)", min=0, max=100, exclusive_min=True
        ),
    ),
    outputs=("stop_price",),
)
