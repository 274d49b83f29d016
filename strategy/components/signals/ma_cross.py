"""ma_cross: a fast moving average against a slow one.

``mode="cross"`` scores +1 only on the candle where fast crosses above slow (-1 below);
``mode="trend"`` scores +1 while fast is above slow and -1 while below.
"""

from __future__ import annotations

import numpy as np

from strategy.components.base import (
    ComponentType,
    Need,
    Param,
    Params,
    Problems,
    Series,
    prev,
    sign_score,
)


def _needs(p: Params) -> list[Need]:
    return [Need.of("fast", p["ma"], period=p["fast"]), Need.of("slow", p["ma"], period=p["slow"])]


def _check(p: Params) -> Problems:
    if p["fast"] >= p["slow"]:
        return [("fast", f"fast ({p['fast']}) must be smaller than slow ({p['slow']})")]
    return []


def _score(x: Series, p: Params) -> np.ndarray:
    if p["mode"] == "trend":
        return sign_score(x["fast"] - x["slow"])
    above = np.sign(x["fast"] - x["slow"])
    was = np.sign(prev(x["fast"]) - prev(x["slow"]))
    up = (above > 0) & (was <= 0)
    down = (above < 0) & (was >= 0)
    return up.astype(np.float64) - down.astype(np.float64)


MA_CROSS = ComponentType(
    type="ma_cross",
    kind="signal",
    description="Fast moving average crossing the slow one: +1 bullish, -1 bearish.",
    params=(
        Param("fast", "integer", 10, "Fast moving-average period (candles)", min=2, max=5000),
        Param("slow", "integer", 30, "Slow moving-average period (candles)", min=3, max=10000),
        Param("ma", "string", "sma", "Moving-average kind", choices=("sma", "ema", "wma")),
        Param(
            "mode",
            "string",
            "cross",
            "cross: +/-1 only on the crossing candle; trend: +/-1 while fast is above/below",
            choices=("cross", "trend"),
        ),
    ),
    outputs=("score", "fast", "slow"),
    needs=_needs,
    check=_check,
    history=1,
    compute=_score,
)
