"""Moving averages of one series: SMA, EMA and WMA, batch (numba) and streaming.

TA-Lib conventions: lookback ``period - 1`` (those positions are NaN); EMA uses
``k = 2 / (period + 1)`` and is seeded with the SMA of its first ``period`` values.
The SMA's and WMA's running sums are double-doubles (``_exact_sum``), updated by the entering
and leaving values: no drift, and equal whatever the series' start.  The EMA
step is one fused multiply-add ``fma(prev, 1 - k, x * k)`` rather than TA-Lib's
``(x - prev) * k + prev``: a shorter dependency chain, equal to TA-Lib within a few ulps.  The ``*_from`` kernels start at an arbitrary first valid index so
composite indicators (MACD, BBANDS, STOCH) reuse them on series with their own warm-up.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from strategy.indicators._exact_sum import dd_add, dd_add_product, dd_add_product_py, dd_add_py
from strategy.indicators._fma import fma
from strategy.indicators.streaming import NAN


def sma_lookback(period: int) -> int:
    return period - 1


ema_lookback = wma_lookback = sma_lookback


@njit(cache=True)
def sma_from(x, period, first, out):
    """SMA of ``x[first:]`` into ``out``; positions before ``first + period - 1`` are NaN."""
    n = x.shape[0]
    start = first + period - 1
    for i in range(min(start, n)):
        out[i] = np.nan
    if start >= n:
        return
    inv = 1.0 / period
    hi = 0.0
    lo = 0.0
    for i in range(first, start + 1):
        hi, lo = dd_add(hi, lo, x[i])
    out[start] = hi * inv
    for i in range(start + 1, n):
        hi, lo = dd_add(hi, lo, x[i])
        hi, lo = dd_add(hi, lo, -x[i - period])
        out[i] = hi * inv


@njit(cache=True)
def ema_from(x, period, first, out):
    """EMA of ``x[first:]`` into ``out``, seeded with the SMA of its first ``period`` values."""
    n = x.shape[0]
    start = first + period - 1
    for i in range(min(start, n)):
        out[i] = np.nan
    if start >= n:
        return
    k = 2.0 / (period + 1)
    a = 1.0 - k
    total = 0.0
    for i in range(first, start + 1):
        total += x[i]
    prev = total / period
    out[start] = prev
    for i in range(start + 1, n):
        prev = fma(prev, a, x[i] * k)
        out[i] = prev


@njit(cache=True)
def sma(x, period):
    """Simple moving average (TA-Lib SMA)."""
    out = np.empty(x.shape[0])
    sma_from(x, period, 0, out)
    return out


@njit(cache=True)
def ema(x, period):
    """Exponential moving average (TA-Lib EMA, SMA-seeded)."""
    out = np.empty(x.shape[0])
    ema_from(x, period, 0, out)
    return out


@njit(cache=True)
def wma(x, period):
    """Linearly weighted moving average, newest weight ``period`` (TA-Lib WMA)."""
    n = x.shape[0]
    out = np.empty(n)
    start = period - 1
    for i in range(min(start, n)):
        out[i] = np.nan
    if start >= n:
        return out
    inv = 2.0 / (period * (period + 1))
    s_hi = s_lo = w_hi = w_lo = 0.0  # exact sums: plain and weighted (see _exact_sum)
    for i in range(start + 1):
        s_hi, s_lo = dd_add(s_hi, s_lo, x[i])
        w_hi, w_lo = dd_add_product(w_hi, w_lo, x[i], float(i + 1))
    out[start] = w_hi * inv
    for i in range(start + 1, n):
        # W_i = W_{i-1} + period * x_i - S_{i-1}; S_i = S_{i-1} + x_i - x_{i-period}
        w_hi, w_lo = dd_add_product(w_hi, w_lo, x[i], float(period))
        w_hi, w_lo = dd_add(w_hi, w_lo, -s_hi)
        w_hi, w_lo = dd_add(w_hi, w_lo, -s_lo)
        s_hi, s_lo = dd_add(s_hi, s_lo, x[i])
        s_hi, s_lo = dd_add(s_hi, s_lo, -x[i - period])
        out[i] = w_hi * inv
    return out


class SmaCore:
    """Streaming SMA of one value series (``push`` returns NaN while warming up)."""

    __slots__ = ("_buf", "_count", "_hi", "_inv", "_lo", "_period", "_pos")

    def __init__(self, period: int) -> None:
        self._period = period
        self._inv = 1.0 / period
        self._buf = [0.0] * period
        self._pos = 0
        self._count = 0
        self._hi = 0.0  # the window's sum, exactly: hi + lo (see _exact_sum)
        self._lo = 0.0

    def push(self, x: float) -> float:
        pos = self._pos
        buf = self._buf
        hi, lo = dd_add_py(self._hi, self._lo, x)
        if self._count < self._period:
            self._count += 1
        else:
            hi, lo = dd_add_py(hi, lo, -buf[pos])
        self._hi, self._lo = hi, lo
        buf[pos] = x
        self._pos = pos + 1 if pos + 1 < self._period else 0
        return hi * self._inv if self._count == self._period else NAN


class EmaCore:
    """Streaming SMA-seeded EMA of one value series."""

    __slots__ = ("_a", "_count", "_k", "_period", "_prev")

    def __init__(self, period: int) -> None:
        self._period = period
        self._k = 2.0 / (period + 1)
        self._a = 1.0 - self._k
        self._count = 0
        self._prev = 0.0

    def push(self, x: float) -> float:
        if self._count >= self._period:
            self._prev = math.fma(self._prev, self._a, x * self._k)
            return self._prev
        self._prev += x
        self._count += 1
        if self._count < self._period:
            return NAN
        self._prev = self._prev / self._period
        return self._prev


class SmaStream:
    """SMA of close."""

    __slots__ = ("_core",)

    def __init__(self, period: int) -> None:
        self._core = SmaCore(period)

    def update(self, open, high, low, close, volume, open_time_ms=-1):
        return (self._core.push(close),)


class EmaStream:
    """EMA of close."""

    __slots__ = ("_core",)

    def __init__(self, period: int) -> None:
        self._core = EmaCore(period)

    def update(self, open, high, low, close, volume, open_time_ms=-1):
        return (self._core.push(close),)


class WmaStream:
    """WMA of close."""

    __slots__ = ("_buf", "_count", "_inv", "_period", "_pos", "_s", "_w")

    def __init__(self, period: int) -> None:
        self._period = period
        self._inv = 2.0 / (period * (period + 1))
        self._buf = [0.0] * period
        self._pos = 0
        self._count = 0
        self._s = (0.0, 0.0)  # exact sums, plain and weighted (see _exact_sum)
        self._w = (0.0, 0.0)

    def update(self, open, high, low, close, volume, open_time_ms=-1):
        pos = self._pos
        buf = self._buf
        period = self._period
        s_hi, s_lo = self._s
        w_hi, w_lo = self._w
        if self._count < period:
            self._count += 1
            s_hi, s_lo = dd_add_py(s_hi, s_lo, close)
            w_hi, w_lo = dd_add_product_py(w_hi, w_lo, close, float(self._count))
        else:
            w_hi, w_lo = dd_add_product_py(w_hi, w_lo, close, float(period))
            w_hi, w_lo = dd_add_py(w_hi, w_lo, -s_hi)
            w_hi, w_lo = dd_add_py(w_hi, w_lo, -s_lo)
            s_hi, s_lo = dd_add_py(s_hi, s_lo, close)
            s_hi, s_lo = dd_add_py(s_hi, s_lo, -buf[pos])
        self._s, self._w = (s_hi, s_lo), (w_hi, w_lo)
        buf[pos] = close
        self._pos = pos + 1 if pos + 1 < period else 0
        return (w_hi * self._inv if self._count == period else NAN,)
