"""trailing_stop: a stop trailing the best price by `distance_pct`, armed after `activation_pct`.

The best price is taken from completed candles only: the level used inside a candle was
fixed at the previous close (no intra-candle ratchet, which would need tick order).
"""

from __future__ import annotations

from numba import njit

from strategy.components.base import ComponentType, Param


@njit(cache=True)
def level(side, entry, best, distance_pct, activation_pct):
    if side * (best - entry) / entry * 100.0 < activation_pct:
        return float("nan")
    return best * (1.0 - side * distance_pct / 100.0)


TRAILING_STOP = ComponentType(
    type="trailing_stop",
    kind="exit",
    description="Stop `distance_pct` behind the best price since entry, once the trade has "
    "gained `activation_pct` (0 = from the start).",
    params=(
        Param(
            "distance_pct",
            "number",
            1.0,
            "Trail distance behind the best price (%)",
            min=0,
            max=100,
            exclusive_min=True,
        ),
        Param(
            "activation_pct",
            "number",
            0.0,
            "Gain needed before the trail arms (%)",
            min=0,
            max=10000,
        ),
    ),
    outputs=("stop_price",),
)
