"""volatility_band: ATR as a percentage of close inside [min_pct, max_pct]."""

from __future__ import annotations

import numpy as np

from strategy.components.base import ComponentType, Need, Param, Params, Problems, Series


def _check(p: Params) -> Problems:
    if p["min_pct"] >= p["max_pct"]:
        return [("min_pct", "min_pct must be below max_pct")]
    return []


def _passes(x: Series, p: Params) -> np.ndarray:
    atr_pct = x["atr"] / x["close"] * 100.0
    return (atr_pct >= p["min_pct"]) & (atr_pct <= p["max_pct"])


VOLATILITY_BAND = ComponentType(
    type="volatility_band",
    kind="filter",
    description="Passes while ATR(period) / close * 100 is between min_pct and max_pct.",
    params=(
        Param("period", "integer", 14, "ATR period", min=1, max=1000),
        Param("min_pct", "number", 0.0, "Lowest ATR% that passes", min=0, max=100),
        Param("max_pct", "number", 100.0, "Highest ATR% that passes", min=0, max=100),
    ),
    outputs=("pass", "atr"),
    needs=lambda p: [Need.of("atr", "atr", period=p["period"])],
    check=_check,
    compute=_passes,
)
