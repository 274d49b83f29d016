"""donchian_breakout: a close beyond the previous candle's Donchian channel.

The channel includes the current candle, so the close is compared with the channel as it
stood one candle earlier (otherwise the close could never exceed the highest high).
"""

from __future__ import annotations

import numpy as np

from strategy.components.base import ComponentType, Need, Param, Params, Series, prev


def _score(x: Series, p: Params) -> np.ndarray:
    close = x["close"]
    up = close > prev(x["upper"])
    down = close < prev(x["lower"])
    return up.astype(np.float64) - down.astype(np.float64)


def _needs(p: Params) -> list[Need]:
    n = p["period"]
    return [
        Need.of("upper", "donchian", "upper", period=n),
        Need.of("lower", "donchian", "lower", period=n),
    ]


DONCHIAN_BREAKOUT = ComponentType(
    type="donchian_breakout",
    kind="signal",
    description="Close above the prior `period`-candle high scores +1, below the prior low -1.",
    params=(Param("period", "integer", 20, "Channel window (candles)", min=1, max=5000),),
    outputs=("score", "upper", "lower"),
    needs=_needs,
    history=1,
    compute=_score,
)
