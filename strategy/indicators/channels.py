"""Rolling extremes and the Donchian channel, batch (numba) and streaming.

Donchian(period): ``upper`` = highest high and ``lower`` = lowest low of the last
``period`` candles, the current one included (like TA-Lib MAX/MIN, lookback
``period - 1``); ``middle`` = ``(upper + lower) / 2``.  The batch kernel is branch-free
(van Herk/Gil-Werman blocks); streams keep a monotonic deque, amortised O(1) per candle.
Extremes are exact, so both forms return the same values.
"""

from __future__ import annotations

from collections import deque

import numpy as np
from numba import njit

from strategy.indicators.streaming import NAN


def donchian_lookback(period: int) -> int:
    return period - 1


@njit(cache=True)
def extremes_into(high, low, period, upper, lower):
    """Highest ``high`` into ``upper`` and lowest ``low`` into ``lower`` over the last
    ``period`` candles (TA-Lib MAX/MIN; NaN before ``period - 1``).

    Van Herk/Gil-Werman: within each block of ``period`` candles a running (prefix)
    extreme, combined with the suffix extremes of the previous block — two branch-free
    max/min per candle whatever the data, where rescanning is data-dependent.
    """
    n = high.shape[0]
    suffix_high = np.empty(period + 1)
    suffix_low = np.empty(period + 1)
    suffix_high[:] = -np.inf  # block 0 has no previous block
    suffix_low[:] = np.inf
    for start in range(0, n, period):
        if start > 0:
            h = -np.inf
            lo = np.inf
            for r in range(period - 1, -1, -1):
                h = max(h, high[start - period + r])
                lo = min(lo, low[start - period + r])
                suffix_high[r] = h
                suffix_low[r] = lo
        h = -np.inf
        lo = np.inf
        for r in range(min(period, n - start)):
            h = max(h, high[start + r])
            lo = min(lo, low[start + r])
            upper[start + r] = max(suffix_high[r + 1], h)
            lower[start + r] = min(suffix_low[r + 1], lo)
    for i in range(min(period - 1, n)):
        upper[i] = np.nan
        lower[i] = np.nan


@njit(cache=True)
def donchian(high, low, period):
    """Donchian channel: (upper, middle, lower)."""
    n = high.shape[0]
    rows = np.empty((3, n))  # one block: cheaper to allocate and free than three arrays
    upper, middle, lower = rows[0], rows[1], rows[2]
    extremes_into(high, low, period, upper, lower)
    for i in range(n):
        middle[i] = (upper[i] + lower[i]) * 0.5
    return upper, middle, lower


class RollingExtremes:
    """Streaming highest high and lowest low of the last ``period`` candles.

    Each side is a monotonic deque of (candle number, value): a new value evicts every
    older one it dominates, so the front is the extreme and each value enters and leaves
    once — amortised O(1) per candle.  Valid once ``period`` candles were pushed.
    """

    __slots__ = ("_count", "_hi_idx", "_hi_val", "_lo_idx", "_lo_val", "_period")

    def __init__(self, period: int) -> None:
        self._period = period
        self._count = 0
        self._hi_idx: deque[int] = deque()
        self._hi_val: deque[float] = deque()
        self._lo_idx: deque[int] = deque()
        self._lo_val: deque[float] = deque()

    def push(self, high: float, low: float) -> tuple[float, float]:
        i = self._count
        self._count = i + 1
        expired = i - self._period
        idx, val = self._hi_idx, self._hi_val
        while val and val[-1] <= high:
            val.pop()
            idx.pop()
        idx.append(i)
        val.append(high)
        if idx[0] <= expired:
            idx.popleft()
            val.popleft()
        highest = val[0]
        idx, val = self._lo_idx, self._lo_val
        while val and val[-1] >= low:
            val.pop()
            idx.pop()
        idx.append(i)
        val.append(low)
        if idx[0] <= expired:
            idx.popleft()
            val.popleft()
        return highest, val[0]


class DonchianStream:
    """Donchian channel of high/low."""

    __slots__ = ("_count", "_extremes", "_warm_up")

    def __init__(self, period: int) -> None:
        self._warm_up = period - 1
        self._count = 0
        self._extremes = RollingExtremes(period)

    def update(self, open, high, low, close, volume, open_time_ms=-1):
        upper, lower = self._extremes.push(high, low)
        if self._count < self._warm_up:
            self._count += 1
            return (NAN, NAN, NAN)
        return (upper, (upper + lower) * 0.5, lower)
