"""trend_strength: ADX inside [min_adx, max_adx] — trade only when a trend is (or is not) strong."""

from __future__ import annotations

import numpy as np

from strategy.components.base import ComponentType, Need, Param, Params, Problems, Series


def _check(p: Params) -> Problems:
    if p["min_adx"] >= p["max_adx"]:
        return [("min_adx", "min_adx must be below max_adx")]
    return []


def _passes(x: Series, p: Params) -> np.ndarray:
    adx = x["adx"]
    return (adx >= p["min_adx"]) & (adx <= p["max_adx"])


TREND_STRENGTH = ComponentType(
    type="trend_strength",
    kind="filter",
    description="Passes while ADX(period) is between min_adx and max_adx.",
    params=(
        Param("period", "integer", 14, "ADX period", min=2, max=1000),
        Param("min_adx", "number", 25.0, "Lowest ADX that passes", min=0, max=100),
        Param("max_adx", "number", 100.0, "Highest ADX that passes", min=0, max=100),
    ),
    outputs=("pass", "adx"),
    needs=lambda p: [Need.of("adx", "adx", "adx", period=p["period"])],
    check=_check,
    compute=_passes,
)
