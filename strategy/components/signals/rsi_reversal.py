"""rsi_reversal: mean reversion on RSI: +1 when oversold, -1 when overbought."""

from __future__ import annotations

import numpy as np

from strategy.components.base import ComponentType, Need, Param, Params, Problems, Series


def _check(p: Params) -> Problems:
    if p["oversold"] >= p["overbought"]:
        return [("oversold", "oversold must be below overbought")]
    return []


def _score(x: Series, p: Params) -> np.ndarray:
    rsi = x["rsi"]
    return (rsi <= p["oversold"]).astype(np.float64) - (rsi >= p["overbought"]).astype(np.float64)


RSI_REVERSAL = ComponentType(
    type="rsi_reversal",
    kind="signal",
    description="RSI at or below `oversold` scores +1 (buy the dip); at or above `overbought` -1.",
    params=(
        Param("period", "integer", 14, "RSI period (Wilder)", min=2, max=1000),
        Param("oversold", "number", 30.0, "Oversold level", min=0, max=100),
        Param("overbought", "number", 70.0, "Overbought level", min=0, max=100),
    ),
    outputs=("score", "rsi"),
    needs=lambda p: [Need.of("rsi", "rsi", period=p["period"])],
    check=_check,
    compute=_score,
)
