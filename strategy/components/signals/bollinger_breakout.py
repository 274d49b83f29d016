"""bollinger_breakout: a close outside the Bollinger bands (+1 above upper, -1 below lower).

Bands of zero width (a flat window: every close equal) give no breakout either way.
"""

from __future__ import annotations

import numpy as np

from strategy.components.base import ComponentType, Need, Param, Params, Series


def _score(x: Series, p: Params) -> np.ndarray:
    close, upper, lower = x["close"], x["upper"], x["lower"]
    open_band = upper > lower
    return (open_band & (close > upper)).astype(np.float64) - (open_band & (close < lower)).astype(
        np.float64
    )


def _needs(p: Params) -> list[Need]:
    kw = {"period": p["period"], "nbdev": p["nbdev"]}
    return [Need.of("upper", "bbands", "upper", **kw), Need.of("lower", "bbands", "lower", **kw)]


BOLLINGER_BREAKOUT = ComponentType(
    type="bollinger_breakout",
    kind="signal",
    description="Close above the upper Bollinger band scores +1, below the lower band -1.",
    params=(
        Param("period", "integer", 20, "Band SMA period", min=2, max=1000),
        Param(
            "nbdev",
            "number",
            2.0,
            "Band width in standard deviations",
            min=0,
            max=10,
            exclusive_min=True,
        ),
    ),
    outputs=("score", "upper", "lower"),
    needs=_needs,
    compute=_score,
)
