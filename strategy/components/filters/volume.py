"""volume: the candle's volume against the SMA of volume."""

from __future__ import annotations

import numpy as np

from strategy.components.base import ComponentType, Need, Param, Params, Series


def _passes(x: Series, p: Params) -> np.ndarray:
    return x["volume"] >= p["min_ratio"] * x["volume_sma"]


VOLUME = ComponentType(
    type="volume",
    kind="filter",
    description="Passes while volume >= min_ratio * SMA(volume, period).",
    params=(
        Param("period", "integer", 20, "Volume SMA period", min=2, max=5000),
        Param(
            "min_ratio", "number", 1.0, "Required multiple of the average volume", min=0, max=1000
        ),
    ),
    outputs=("pass", "volume_sma"),
    needs=lambda p: [Need.of("volume_sma", "sma", source="volume", period=p["period"])],
    compute=_passes,
)
