"""Seeded synthetic candles (a geometric random walk with optional drift) for tests and benches.

Not market data: a reproducible stand-in when no exchange history is at hand.  ``trend``
adds a slow sine to the drift so moving-average strategies have swings to trade.
"""

from __future__ import annotations

import numpy as np

from strategy.indicators import Candles


def random_walk(
    n: int,
    *,
    seed: int = 0,
    start_ms: int = 1_704_067_200_000,  # 2024-01-01 00:00 UTC, a Monday
    timeframe_ms: int = 60_000,
    price: float = 100.0,
    volatility: float = 0.001,
    trend: float = 0.0,
) -> Candles:
    """``n`` candles; prices rounded to 0.01 like a real tick size."""
    rng = np.random.default_rng(seed)
    drift = trend * volatility * np.sin(np.arange(n) * 2 * np.pi / 2000)
    close = price * np.exp(np.cumsum(rng.normal(drift, volatility, n)))
    open_ = np.concatenate(([price], close[:-1]))[:n]
    wick = np.abs(rng.normal(0, volatility / 2, (2, n)))
    high = np.maximum(open_, close) * (1 + wick[0])
    low = np.minimum(open_, close) * (1 - wick[1])
    volume = rng.lognormal(3, 0.5, n)
    r = np.round
    return Candles.of(
        start_ms + np.arange(n, dtype=np.int64) * timeframe_ms,
        r(open_, 2),
        r(high, 2),
        r(low, 2),
        r(close, 2),
        r(volume, 3),
    )
