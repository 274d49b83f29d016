"""macd_histogram: the sign of the MACD histogram (+1 above zero, -1 below)."""

from __future__ import annotations

import numpy as np

from strategy.components.base import (
    ComponentType,
    Need,
    Param,
    Params,
    Problems,
    Series,
    sign_score,
)


def _check(p: Params) -> Problems:
    if p["fast"] >= p["slow"]:
        return [("fast", f"fast ({p['fast']}) must be smaller than slow ({p['slow']})")]
    return []


def _score(x: Series, p: Params) -> np.ndarray:
    return sign_score(x["hist"])


MACD_HISTOGRAM = ComponentType(
    type="macd_histogram",
    kind="signal",
    description="MACD histogram above zero scores +1, below zero -1.",
    params=(
        Param("fast", "integer", 12, "Fast EMA period", min=2, max=1000),
        Param("slow", "integer", 26, "Slow EMA period", min=3, max=2000),
        Param("signal", "integer", 9, "Signal-line EMA period", min=1, max=1000),
    ),
    outputs=("score", "hist"),
    needs=lambda p: [
        Need.of("hist", "macd", "hist", fast=p["fast"], slow=p["slow"], signal=p["signal"])
    ],
    check=_check,
    compute=_score,
)
