"""Volume indicators: OBV and VWAP, batch (numba) and streaming.

OBV is TA-Lib's: it starts at the first candle's volume, then adds the volume when close
rises, subtracts it when close falls, and keeps it when close is unchanged (lookback 0).

VWAP is session-less and cumulative (without resets it is TA-Lib 0.8's VWAP):
``sum(tp * volume) / sum(volume)`` with the typical price ``tp = (high + low + close) / 3``,
summed from the first candle, or from the last reset.  ``reset_candles = N > 0`` resets
the sums before every N-th candle (candles 0, N, 2N, ... of the series or stream);
``reset_daily = 1`` resets them before the first candle of each UTC day (by
``open_time_ms``).  While the summed volume is 0 the value is the candle's typical price,
so VWAP is never NaN (lookback 0).  The kernel sums ``(h + l + c) * volume`` and divides
by ``3 * volume`` once, one division per candle instead of two.
"""

from __future__ import annotations

import numpy as np
from numba import njit

DAY_MS = 86_400_000


def obv_lookback() -> int:
    return 0


def vwap_lookback() -> int:
    return 0


def obv_step_py(close: float, prev_close: float, volume: float) -> float:
    """+volume on a rise, -volume on a fall, 0 when unchanged — without a branch, since the
    direction of a random walk is unpredictable (bools multiply as 1.0/0.0, exactly)."""
    return (close > prev_close) * volume - (close < prev_close) * volume


obv_step = njit(cache=True, inline="always")(obv_step_py)  # the kernel's copy, same source


@njit(cache=True)
def obv(close, volume):
    """On-balance volume (TA-Lib OBV)."""
    n = close.shape[0]
    out = np.empty(n)
    if n == 0:
        return out
    total = volume[0]
    prev = close[0]
    out[0] = total
    for i in range(1, n):
        c = close[i]
        total += obv_step(c, prev, volume[i])
        out[i] = total
        prev = c
    return out


@njit(cache=True)
def vwap(open_time_ms, high, low, close, volume, reset_candles, reset_daily):
    """Cumulative typical-price VWAP with optional resets; see the module docstring."""
    n = close.shape[0]
    out = np.empty(n)
    pv = 0.0
    vol = 0.0
    day_start = 0
    day_end = 0  # [day_start, day_end) is the current UTC day; empty before the first candle
    countdown = 0
    for i in range(n):
        if reset_candles > 0:
            if countdown == 0:
                pv = 0.0
                vol = 0.0
                countdown = reset_candles
            countdown -= 1
        if reset_daily:
            t = open_time_ms[i]
            if t < day_start or t >= day_end:  # divide only when the day changes
                day_start = (t // DAY_MS) * DAY_MS
                day_end = day_start + DAY_MS
                pv = 0.0
                vol = 0.0
        hlc = high[i] + low[i] + close[i]
        pv += hlc * volume[i]
        vol += volume[i]
        out[i] = pv / (vol * 3.0) if vol > 0.0 else hlc / 3.0
    return out


class ObvStream:
    """On-balance volume of close/volume."""

    __slots__ = ("_prev", "_started", "_total")

    def __init__(self) -> None:
        self._started = False
        self._prev = 0.0
        self._total = 0.0

    def update(self, open, high, low, close, volume, open_time_ms=-1):
        if self._started:
            self._total += obv_step_py(close, self._prev, volume)
        else:
            self._started = True
            self._total = volume
        self._prev = close
        return (self._total,)


class VwapStream:
    """VWAP of the typical price; ``reset_daily`` needs ``open_time_ms`` on every update."""

    __slots__ = ("_count", "_day", "_pv", "_reset_candles", "_reset_daily", "_vol")

    def __init__(self, reset_candles: int, reset_daily: int) -> None:
        self._reset_candles = reset_candles
        self._reset_daily = reset_daily
        self._count = 0
        self._day = 0
        self._pv = 0.0
        self._vol = 0.0

    def update(self, open, high, low, close, volume, open_time_ms=-1):
        i = self._count
        self._count = i + 1
        if self._reset_candles > 0 and i % self._reset_candles == 0:
            self._pv = self._vol = 0.0
        if self._reset_daily:
            if open_time_ms < 0:
                raise ValueError("vwap with reset_daily needs open_time_ms on every update")
            today = open_time_ms // DAY_MS
            if i == 0 or today != self._day:
                self._pv = self._vol = 0.0
            self._day = today
        hlc = high + low + close
        self._pv += hlc * volume
        self._vol += volume
        return (self._pv / (self._vol * 3.0) if self._vol > 0.0 else hlc / 3.0,)
