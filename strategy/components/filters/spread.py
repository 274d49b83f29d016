"""spread: the bid/ask spread in basis points must not exceed max_bps.

The spread is not part of a candle: the live bot passes the order book's spread with each
candle (``MarketExtras.spread_bps``); the backtester uses a constant assumed spread from its
config (default 0 bps, so the filter always passes unless configured).  A missing spread
(NaN) fails the filter: trading blind on spread is what the filter exists to prevent.
"""

from __future__ import annotations

import numpy as np

from strategy.components.base import ComponentType, Param, Params, Series


def _passes(x: Series, p: Params) -> np.ndarray:
    return x["spread_bps"] <= p["max_bps"]


SPREAD = ComponentType(
    type="spread",
    kind="filter",
    description="Passes while the bid/ask spread is at most max_bps basis points.",
    params=(Param("max_bps", "number", 5.0, "Widest acceptable spread (bps)", min=0, max=10000),),
    outputs=("pass", "spread_bps"),
    compute=_passes,
)
