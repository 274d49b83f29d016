"""True range, ATR and Bollinger bands, batch (numba) and streaming, as TA-Lib computes them.

ATR(period): true range ``max(h - l, |h - prev close|, |l - prev close|)`` from the second
candle on; the first ATR (candle ``period``) is the mean of the first ``period`` true
ranges, then Wilder smoothing ``atr = atr * (period - 1) / period + tr / period``.  That
recurrence is the whole cost, so candles go in pairs after the seed: the first of a pair is
``fma(atr, a, tr1 * b)`` (``a = (period - 1) / period``, ``b = 1 / period``) and the second is
``fma(atr, a * a, fma(tr1 * b, a, tr2 * b))`` from the value *before* the pair, which halves
the loop-carried chain.  Results stay within a few ulps of TA-Lib; the stream pairs
candles the same way, so it stays bit-identical to the batch.

BBANDS(period, nbdev_up, nbdev_dn): middle = SMA; the deviation is the *population*
standard deviation, kept with a rolling Welford update (mean and sum of squared
deviations) rather than ``mean(x^2) - mean(x)^2``, which cancels catastrophically on flat
prices — TA-Lib 0.8 is precise there too; 0 when rounding makes the variance negative.
upper/lower = middle +/- nbdev * deviation; lookback ``period - 1``.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

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


@njit(cache=True)
def bbands(x, period, nbdev_up, nbdev_dn):
    """Bollinger bands (upper, middle, lower) with SMA and population deviation (TA-Lib)."""
    n = x.shape[0]
    rows = np.empty((3, n))  # one block: cheaper to allocate and free than three arrays
    upper, middle, lower = rows[0], rows[1], rows[2]
    for i in range(min(period - 1, n)):
        upper[i] = np.nan
        middle[i] = np.nan
        lower[i] = np.nan
    inv = 1.0 / period
    total = 0.0
    mean = 0.0
    m2 = 0.0
    for i in range(n):
        v = x[i]
        if i < period:
            total += v
            delta = v - mean
            mean += delta / (i + 1)
            m2 += delta * (v - mean)
            if i < period - 1:
                continue
        else:
            old = x[i - period]
            step = v - old
            total += step
            new_mean = fma(step, inv, mean)
            m2 = fma(step, (v - new_mean) + (old - mean), m2)
            mean = new_mean
        var = m2 * inv
        dev = math.sqrt(var) if var > 0.0 else 0.0
        mid = total * inv
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
    """Bollinger bands of close."""

    __slots__ = (
        "_buf",
        "_count",
        "_dn",
        "_inv",
        "_m2",
        "_mean",
        "_period",
        "_pos",
        "_total",
        "_up",
    )

    def __init__(self, period: int, nbdev_up: float, nbdev_dn: float) -> None:
        self._period = period
        self._inv = 1.0 / period
        self._up = nbdev_up
        self._dn = nbdev_dn
        self._buf = [0.0] * period
        self._pos = 0
        self._count = 0
        self._total = 0.0
        self._mean = 0.0
        self._m2 = 0.0

    def update(self, open, high, low, close, volume, open_time_ms=-1):
        pos = self._pos
        period = self._period
        inv = self._inv
        mean = self._mean
        if self._count < period:
            self._total += close
            self._count += 1
            delta = close - mean
            mean += delta / self._count
            self._m2 += delta * (close - mean)
        else:
            old = self._buf[pos]
            step = close - old
            self._total += step
            new_mean = math.fma(step, inv, mean)
            self._m2 = math.fma(step, (close - new_mean) + (old - mean), self._m2)
            mean = new_mean
        self._mean = mean
        self._buf[pos] = close
        self._pos = pos + 1 if pos + 1 < period else 0
        if self._count < period:
            return (NAN, NAN, NAN)
        var = self._m2 * inv
        dev = math.sqrt(var) if var > 0.0 else 0.0
        mid = self._total * inv
        return (mid + dev * self._up, mid, mid - dev * self._dn)
