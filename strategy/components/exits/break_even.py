"""break_even: once the trade gained `trigger_pct`, move the stop to entry (+ `offset_pct`)."""

from __future__ import annotations

from numba import njit

from strategy.components.base import ComponentType, Param, Params, Problems


@njit(cache=True)
def level(side, entry, best, trigger_pct, offset_pct):
    if side * (best - entry) / entry * 100.0 < trigger_pct:
        return float("nan")
    return entry * (1.0 + side * offset_pct / 100.0)


def _check(p: Params) -> Problems:
    if p["offset_pct"] >= p["trigger_pct"]:
        return [("offset_pct", "offset_pct must be below trigger_pct")]
    return []


BREAK_EVEN = ComponentType(
    type="break_even",
    kind="exit",
    description="After a gain of `trigger_pct`, the stop moves to the entry price plus "
    "`offset_pct` (to cover fees).",
    params=(
        Param(
            "trigger_pct",
            "number",
            1.0,
            "Gain that arms the break-even stop (%)",
            min=0,
            max=10000,
            exclusive_min=True,
        ),
        Param(
            "offset_pct", "number", 0.0, "Stop offset beyond entry, in favour (%)", min=0, max=100
        ),
    ),
    outputs=("stop_price",),
    check=_check,
)
