"""MACD and the slow stochastic, batch (numba) and streaming, as TA-Lib computes them.

MACD(fast, slow, signal) is TA-Lib's MACD, quirks included: the periods are swapped when
``slow < fast``; both EMAs are seeded at candle ``slow - 1`` (so the fast EMA's seed is the
SMA of the ``fast`` closes ending there, not of the first ``fast`` closes); the signal is an
SMA-seeded EMA of the MACD line; all three outputs share the lookback
``slow - 1 + signal - 1``.

STOCH(fastk, slowk, slowd) is TA-Lib's default STOCH (both smoothings SMA): fast %K =
``(close - LL) / ((HH - LL) / 100)`` over ``fastk`` candles (0 when HH - LL is zero
relative to ``|HH| + |LL|``, TA-Lib's scaled zero test), %K = SMA of
fast %K, %D = SMA of %K; lookback ``fastk - 1 + slowk - 1 + slowd - 1``.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from strategy.indicators._fma import fma
from strategy.indicators.channels import RollingExtremes, extremes_into
from strategy.indicators.moving_averages import SmaCore, sma_from
from strategy.indicators.streaming import NAN, ZERO_EPSILON


def macd_lookback(fast: int, slow: int, signal: int) -> int:
    return max(fast, slow) - 1 + signal - 1


def stoch_lookback(fastk: int, slowk: int, slowd: int) -> int:
    return fastk - 1 + slowk - 1 + slowd - 1


@njit(cache=True)
def macd(x, fast, slow, signal):
    """MACD line, signal line and histogram (TA-Lib MACD)."""
    if slow < fast:
        fast, slow = slow, fast
    n = x.shape[0]
    rows = np.empty((3, n))  # one block: cheaper to allocate and free than three arrays
    line_out = rows[0]
    signal_out = rows[1]
    hist_out = rows[2]
    lookback = slow - 1 + signal - 1
    for i in range(min(lookback, n)):
        line_out[i] = np.nan
        signal_out[i] = np.nan
        hist_out[i] = np.nan
    if lookback >= n:
        return line_out, signal_out, hist_out
    kf = 2.0 / (fast + 1)
    af = 1.0 - kf
    ks = 2.0 / (slow + 1)
    as_ = 1.0 - ks
    kg = 2.0 / (signal + 1)
    ag = 1.0 - kg
    fast_sum = 0.0
    slow_sum = 0.0
    for i in range(slow):
        slow_sum += x[i]
        if i >= slow - fast:
            fast_sum += x[i]
    fast_ema = fast_sum / fast
    slow_ema = slow_sum / slow
    line = fast_ema - slow_ema
    signal_sum = line
    for i in range(slow, lookback + 1):
        fast_ema = fma(fast_ema, af, x[i] * kf)
        slow_ema = fma(slow_ema, as_, x[i] * ks)
        line = fast_ema - slow_ema
        signal_sum += line
    sig = signal_sum / signal
    line_out[lookback] = line
    signal_out[lookback] = sig
    hist_out[lookback] = line - sig
    for i in range(lookback + 1, n):
        fast_ema = fma(fast_ema, af, x[i] * kf)
        slow_ema = fma(slow_ema, as_, x[i] * ks)
        line = fast_ema - slow_ema
        sig = fma(sig, ag, line * kg)
        line_out[i] = line
        signal_out[i] = sig
        hist_out[i] = line - sig
    return line_out, signal_out, hist_out


def fast_k_py(highest: float, lowest: float, close: float) -> float:
    """Fast %K, 0 when the range is zero relative to the prices (TA-Lib's scaled test)."""
    diff = highest - lowest
    if abs(diff) <= ZERO_EPSILON * (abs(highest) + abs(lowest)):
        return 0.0
    return (close - lowest) / (diff / 100.0)


fast_k = njit(cache=True, inline="always")(fast_k_py)  # the kernels' copy, same source


@njit(cache=True)
def stoch(high, low, close, fastk, slowk, slowd):
    """Slow stochastic %K and %D (TA-Lib STOCH with SMA smoothing)."""
    n = close.shape[0]
    rows = np.empty((2, n))  # scratch for HH/LL, fast %K, then %K and %D: one block
    highest, lowest = rows[0], rows[1]
    extremes_into(high, low, fastk, highest, lowest)
    for i in range(fastk - 1, n):
        highest[i] = fast_k(highest[i], lowest[i], close[i])  # fast %K over HH in place
    k, d = lowest, highest
    sma_from(highest, slowk, fastk - 1, k)
    sma_from(k, slowd, fastk - 1 + slowk - 1, d)
    for i in range(min(fastk - 1 + slowk - 1 + slowd - 1, n)):
        k[i] = np.nan
    return k, d


class MacdStream:
    """MACD of close."""

    __slots__ = (
        "_af",
        "_ag",
        "_as",
        "_count",
        "_fast",
        "_fast_ema",
        "_kf",
        "_kg",
        "_ks",
        "_lookback",
        "_sig",
        "_signal",
        "_slow",
        "_slow_ema",
    )

    def __init__(self, fast: int, slow: int, signal: int) -> None:
        if slow < fast:
            fast, slow = slow, fast
        self._fast, self._slow, self._signal = fast, slow, signal
        self._lookback = slow - 1 + signal - 1
        self._count = 0
        self._kf = 2.0 / (fast + 1)
        self._af = 1.0 - self._kf
        self._ks = 2.0 / (slow + 1)
        self._as = 1.0 - self._ks
        self._kg = 2.0 / (signal + 1)
        self._ag = 1.0 - self._kg
        self._fast_ema = self._slow_ema = self._sig = 0.0  # sums until seeded

    def update(self, open, high, low, close, volume, open_time_ms=-1):
        i = self._count
        self._count = i + 1
        slow = self._slow
        if i < slow:
            self._slow_ema += close
            if i >= slow - self._fast:
                self._fast_ema += close
            if i < slow - 1:
                return (NAN, NAN, NAN)
            self._fast_ema /= self._fast
            self._slow_ema /= slow
        else:
            self._fast_ema = math.fma(self._fast_ema, self._af, close * self._kf)
            self._slow_ema = math.fma(self._slow_ema, self._as, close * self._ks)
        line = self._fast_ema - self._slow_ema
        if i <= self._lookback:
            self._sig += line
            if i < self._lookback:
                return (NAN, NAN, NAN)
            self._sig /= self._signal
        else:
            self._sig = math.fma(self._sig, self._ag, line * self._kg)
        return (line, self._sig, line - self._sig)


class StochStream:
    """Slow stochastic of high/low/close."""

    __slots__ = ("_count", "_d", "_extremes", "_fastk", "_k", "_lookback")

    def __init__(self, fastk: int, slowk: int, slowd: int) -> None:
        self._fastk = fastk
        self._lookback = stoch_lookback(fastk, slowk, slowd)
        self._count = 0
        self._extremes = RollingExtremes(fastk)
        self._k = SmaCore(slowk)
        self._d = SmaCore(slowd)

    def update(self, open, high, low, close, volume, open_time_ms=-1):
        highest, lowest = self._extremes.push(high, low)
        i = self._count
        self._count = i + 1
        if i < self._fastk - 1:
            return (NAN, NAN)
        k = self._k.push(fast_k_py(highest, lowest, close))
        if math.isnan(k):  # %K still warming up
            return (NAN, NAN)
        d = self._d.push(k)
        if i < self._lookback:
            return (NAN, NAN)
        return (k, d)
