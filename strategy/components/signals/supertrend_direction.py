"""supertrend_direction: the SuperTrend direction (+1 up-trend, -1 down-trend)."""

from __future__ import annotations

import numpy as np

from strategy.components.base import ComponentType, Need, Param, Params, Series, sign_score


def _score(x: Series, p: Params) -> np.ndarray:
    return sign_score(x["direction"])


SUPERTREND_DIRECTION = ComponentType(
    type="supertrend_direction",
    kind="signal",
    description="SuperTrend direction: +1 while price is above the band, -1 while below.",
    params=(
        Param("period", "integer", 10, "ATR period", min=1, max=1000),
        Param(
            "multiplier", "number", 3.0, "Band distance in ATRs", min=0, max=100, exclusive_min=True
        ),
    ),
    outputs=("score", "direction"),
    needs=lambda p: [
        Need.of(
            "direction", "supertrend", "direction", period=p["period"], multiplier=p["multiplier"]
        )
    ],
    compute=_score,
)
