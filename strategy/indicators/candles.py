"""The column-oriented candle container every batch indicator reads."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


class Candles(NamedTuple):
    """Candles as parallel numpy columns, oldest first.

    ``open_time_ms`` is int64 (UTC milliseconds), the price and volume columns float64.
    Build one from any sequences with :meth:`Candles.of`, which copies into the right dtypes.
    """

    open_time_ms: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray

    @classmethod
    def of(cls, open_time_ms, open, high, low, close, volume) -> Candles:
        """Coerce columns to contiguous int64/float64 arrays of equal length."""
        cols = (
            np.ascontiguousarray(open_time_ms, dtype=np.int64),
            *(np.ascontiguousarray(c, dtype=np.float64) for c in (open, high, low, close, volume)),
        )
        if len({c.shape for c in cols}) != 1 or cols[0].ndim != 1:
            raise ValueError("candle columns must be 1-D and of equal length")
        return cls(*cols)
