"""atr_stop: a fixed stop `multiplier` ATRs from entry, ATR taken at the entry decision."""

from __future__ import annotations

from numba import njit

from strategy.components.base import ComponentType, Need, Param


@njit(cache=True)
def level(side, entry, atr, multiplier):
    return entry - side * multiplier * atr


ATR_STOP = ComponentType(
    type="atr_stop",
    kind="exit",
    description="Stop `multiplier` x ATR(period) from the entry; the ATR is the one of the "
    "candle that triggered the entry.",
    params=(
        Param("period", "integer", 14, "ATR period", min=1, max=1000),
        Param(
            "multiplier", "number", 2.0, "Stop distance in ATRs", min=0, max=100, exclusive_min=True
        ),
    ),
    outputs=("stop_price", "atr"),
    needs=lambda p: [Need.of("atr", "atr", period=p["period"])],
)
