"""True range, ATR and Bollinger bands, batch (numba) and streaming, as TA-Lib computes them.

ATR(period): true range ``max(h - l, |h - prev close|, |l - prev close|)`` from the second
candle on; the first ATR (candle ``period``) is the mean of the first ``period`` true
ranges, then Wilder smoothing ``atr = atr * (period - 1) / period + tr / period``.  That
recurrence is the whole cost, so candles go in pairs after the seed: the first of a pair is
``fma(atr, a, tr1 * b)`` (``a = (period - 1) / period``, ``b = 1 / period``) and the second is
``fma(atr, a * a, fma(tr1 * b, a, tr2 * b))`` from the value *before* the pair, which halves
the loop-carried chain.  Results stay within a few ulps of TA-Lib; the stream pairs
candles the same way, so it stays bit-identical to the batch.

BBANDS(period, nbdev_up, nbdev_dn): middle = SMA, its window sum kept exactly
(``_exact_sum``); the deviation is the *population* standard deviation computed in two
passes over the window at every candle (``sum((x - middle)^2) / period``, oldest first).
Both are functions of the window alone: no drift however long the series (a running
variance gains error with every candle and keeps a phantom width after a step then a flat
run), and the same value whatever the series' start (restart parity).  A flat window
(``period`` equal closes) has middle = that close and deviation exactly 0, so the bands
have zero width.  upper/lower = middle +/- nbdev * deviation; lookback ``period - 1``.
O(period) per candle: periods are at most 1000.
"""

from __future__ import annotations

import math
from collections import deque

import numpy as np
from numba import njit

from strategy.indicators._exact_sum import dd_add, dd_add_py
from strategy.indicators._fma import fma
from strategy.indicators.streaming import NAN


def atr_lookback(period: int) -> int:
    return period


def bbands_lookback(period: int) -> int:
    return period - 1


def true_range_py(high: float, low: float, prev_close: float) -> float:
    """TA-Lib's TRUE_RANGE of one candle given the previous close (streams call this)."""
    return max(high - low, abs(high - prev_close), abs(low - prev_close))


# The kernels' copy is the same source compiled by numba, so both forms round alike.
true_range = njit(cache=True, inline="always")(true_range_py)


@njit(cache=True)
def atr(high, low, close, period):
    """Average true range, Wilder smoothing (TA-Lib ATR); see the module docstring."""
    return atr_into(high, low, close, period, np.empty(close.shape[0]))


@njit(cache=True)
def atr_into(high, low, close, period, out):
    """:func:`atr` written into ``out`` (which is returned)."""
    n = close.shape[0]
    for i in range(min(period, n)):
        out[i] = np.nan
    if period >= n:
        return out
    # Views aligned on "candle j + 1 and the close before it" and loops counting from 0:
    # numba then drops its negative-index checks, a third of this loop's instructions.
    hi, lo, prev_close, dest = high[1:], low[1:], close[:-1], out[1:]
    total = 0.0
    for j in range(period):
        total += true_range(hi[j], lo[j], prev_close[j])
    anchor = total / period
    dest[period - 1] = anchor
    a = (period - 1) / period
    a2 = a * a
    b = 1.0 / period
    hi, lo, prev_close, dest = hi[period:], lo[period:], prev_close[period:], dest[period:]
    hi1, lo1, prev_close1, dest1 = hi[1:], lo[1:], prev_close[1:], dest[1:]
    m = n - 1 - period
    for k in range(m // 2):  # candles in pairs: see the module docstring
        t1 = true_range(hi[2 * k], lo[2 * k], prev_close[2 * k]) * b
        t2 = true_range(hi1[2 * k], lo1[2 * k], prev_close1[2 * k]) * b
        dest[2 * k] = fma(anchor, a, t1)
        anchor = fma(anchor, a2, fma(t1, a, t2))
        dest1[2 * k] = anchor
    if m % 2:
        k = m - 1
        dest[k] = fma(anchor, a, true_range(hi[k], lo[k], prev_close[k]) * b)
    return out


def bbands_point_py(window, first, period, run, inv, hi):
    """(middle, deviation) of ``window[first:first + period]`` (oldest first) whose exact sum
    is ``hi``; ``run`` counts the equal closes ending the window."""
    last = window[first + period - 1]
    if run >= period:  # flat: exactly that close, zero width
        return last, 0.0
    mid = hi * inv
    acc = 0.0
    for j in range(first, first + period):
        d = window[j] - mid
        acc += d * d
    return mid, math.sqrt(acc * inv)


bbands_point = njit(cache=True, inline="always")(bbands_point_py)


@njit(cache=True)
def bbands(x, period, nbdev_up, nbdev_dn):
    """Bollinger bands (upper, middle, lower) with SMA and population deviation (TA-Lib);
    see the module docstring."""
    n = x.shape[0]
    rows = np.empty((3, n))  # one block: cheaper to allocate and free than three arrays
    upper, middle, lower = rows[0], rows[1], rows[2]
    for i in range(min(period - 1, n)):
        upper[i] = np.nan
        middle[i] = np.nan
        lower[i] = np.nan
    inv = 1.0 / period
    hi = 0.0
    lo = 0.0
    run = 0
    for i in range(n):
        v = x[i]
        run = run + 1 if i > 0 and v == x[i - 1] else 1
        hi, lo = dd_add(hi, lo, v)
        if i >= period:
            hi, lo = dd_add(hi, lo, -x[i - period])
        if i < period - 1:
            continue
        mid, dev = bbands_point(x, i - period + 1, period, run, inv, hi)
        upper[i] = mid + dev * nbdev_up
        middle[i] = mid
        lower[i] = mid - dev * nbdev_dn
    return upper, middle, lower


class AtrCore:
    """Streaming ATR of (high, low, close) pushes, pairing candles like :func:`atr`."""

    __slots__ = ("_a", "_a2", "_anchor", "_b", "_count", "_pending", "_period", "_prev_close")

    def __init__(self, period: int) -> None:
        self._period = period
        self._a = (period - 1) / period
        self._a2 = self._a * self._a
        self._b = 1.0 / period
        self._count = 0
        self._prev_close = 0.0
        self._anchor = 0.0  # the sum of true ranges until seeded, then the ATR before a pair
        self._pending = 0.0  # the scaled true range of the first candle of a pair

    def push(self, high: float, low: float, close: float) -> float:
        i = self._count
        self._count = i + 1
        tr = true_range_py(high, low, self._prev_close)
        self._prev_close = close
        if i > self._period:
            t = tr * self._b
            if (i - self._period) % 2:
                self._pending = t
                return math.fma(self._anchor, self._a, t)
            self._anchor = math.fma(self._anchor, self._a2, math.fma(self._pending, self._a, t))
            return self._anchor
        if i == 0:
            return NAN
        self._anchor += tr
        if i < self._period:
            return NAN
        self._anchor /= self._period
        return self._anchor


class AtrStream:
    """ATR of high/low/close."""

    __slots__ = ("_core",)

    def __init__(self, period: int) -> None:
        self._core = AtrCore(period)

    def update(self, open, high, low, close, volume, open_time_ms=-1):
        return (self._core.push(high, low, close),)


class BbandsStream:
    """Bollinger bands of close (the window kept oldest first, as the batch reads it)."""

    __slots__ = ("_dn", "_hi", "_inv", "_lo", "_period", "_run", "_up", "_window")

    def __init__(self, period: int, nbdev_up: float, nbdev_dn: float) -> None:
        self._period = period
        self._inv = 1.0 / period
        self._up = nbdev_up
        self._dn = nbdev_dn
        self._window: deque[float] = deque(maxlen=period)
        self._hi = 0.0  # the window's sum, exactly: hi + lo (see _exact_sum)
        self._lo = 0.0
        self._run = 0  # equal closes ending the window

    def update(self, open, high, low, close, volume, open_time_ms=-1):
        window = self._window
        self._run = self._run + 1 if window and close == window[-1] else 1
        hi, lo = dd_add_py(self._hi, self._lo, close)
        if len(window) == self._period:
            hi, lo = dd_add_py(hi, lo, -window[0])
        self._hi, self._lo = hi, lo
        window.append(close)
        if len(window) < self._period:
            return (NAN, NAN, NAN)
        mid, dev = bbands_point_py(list(window), 0, self._period, self._run, self._inv, hi)
        return (mid + dev * self._up, mid, mid - dev * self._dn)
