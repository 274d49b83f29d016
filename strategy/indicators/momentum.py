"""Momentum of one series or the typical price: RSI, rate of change and CCI.

TA-Lib conventions.  RSI: Wilder smoothing seeded with the plain mean of the first
``period`` gains/losses (lookback ``period``); 0 when there was no move at all.  ROC:
``(x / x[period ago] - 1) * 100``, 0 when the old value is 0.  CCI: typical price
``(h + l + c) / 3``, ``(tp - mean) / (0.015 * mean absolute deviation)``, 0 when
``tp - mean`` is zero relative to ``|mean|`` (TA-Lib's scaled zero test).  A CCI update
costs O(period), not O(1): the mean absolute deviation needs the whole window.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from strategy.indicators._fma import fma
from strategy.indicators.streaming import NAN, ZERO_EPSILON


def rsi_lookback(period: int) -> int:
    return period


def roc_lookback(period: int) -> int:
    return period


def cci_lookback(period: int) -> int:
    return period - 1


@njit(cache=True)
def rsi(x, period):
    """Relative strength index, Wilder smoothing (TA-Lib RSI)."""
    n = x.shape[0]
    out = np.empty(n)
    for i in range(min(period, n)):
        out[i] = np.nan
    if period >= n:
        return out
    gain = 0.0
    loss = 0.0
    for i in range(1, period + 1):
        d = x[i] - x[i - 1]
        if d < 0.0:
            loss -= d
        else:
            gain += d
    gain /= period
    loss /= period
    s = gain + loss
    out[period] = 100.0 * (gain / s) if s != 0.0 else 0.0
    a = (period - 1) / period
    b = 1.0 / period
    for i in range(period + 1, n):
        d = x[i] - x[i - 1]
        up = max(0.0, d)
        down = -d if d < 0.0 else 0.0
        gain = fma(gain, a, up * b)
        loss = fma(loss, a, down * b)
        s = gain + loss
        out[i] = 100.0 * (gain / s) if s != 0.0 else 0.0
    return out


@njit(cache=True)
def roc(x, period):
    """Rate of change in percent (TA-Lib ROC)."""
    n = x.shape[0]
    out = np.empty(n)
    for i in range(min(period, n)):
        out[i] = np.nan
    if period >= n:
        return out
    # Aligned views index from 0, so the loop has no wrap-around checks and vectorises.
    now, then, dest = x[period:], x[: n - period], out[period:]
    for j in range(n - period):
        old = then[j]
        dest[j] = (now[j] / old - 1.0) * 100.0 if old != 0.0 else 0.0
    return out


@njit(cache=True, inline="always")
def _window_sum(values):
    """Sum of ``values`` in four interleaved partial sums (four short dependency chains)."""
    n = values.shape[0]
    s0 = s1 = s2 = s3 = 0.0
    for q in range(n // 4):
        s0 += values[4 * q]
        s1 += values[4 * q + 1]
        s2 += values[4 * q + 2]
        s3 += values[4 * q + 3]
    for j in range(n - n % 4, n):
        s0 += values[j]
    return (s0 + s1) + (s2 + s3)


@njit(cache=True, inline="always")
def _window_abs_dev(values, mean):
    """Sum of ``|values - mean|``, in the same four partial sums."""
    n = values.shape[0]
    s0 = s1 = s2 = s3 = 0.0
    for q in range(n // 4):
        s0 += abs(values[4 * q] - mean)
        s1 += abs(values[4 * q + 1] - mean)
        s2 += abs(values[4 * q + 2] - mean)
        s3 += abs(values[4 * q + 3] - mean)
    for j in range(n - n % 4, n):
        s0 += abs(values[j] - mean)
    return (s0 + s1) + (s2 + s3)


@njit(cache=True, inline="always")
def cci_push(window, state, tp):
    """Push one typical price into a CCI state; return the CCI (NaN while warming up).

    ``window`` holds ``2 * period`` floats, each value stored twice so the last ``period``
    are always contiguous; ``state`` is ``[next position, count, running sum]``.  The mean
    comes from the running sum, re-summed from the window every ``period`` candles so its
    rounding never drifts; the mean absolute deviation is O(period) by nature.  Batch and
    stream both run this one function, so they agree bit for bit.
    """
    period = window.shape[0] // 2
    pos = int(state[0])
    count = int(state[1]) + 1
    total = state[2] + (tp - window[pos] if count > period else tp)
    window[pos] = tp
    window[pos + period] = tp
    first = pos + 1
    state[0] = 0 if first == period else first
    state[1] = count
    if count < period:
        state[2] = total
        return np.nan
    latest = window[first : first + period]  # a view indexed from 0: no wrap-around checks
    if first == period:
        total = _window_sum(latest)
    state[2] = total
    mean = total / period
    dev = _window_abs_dev(latest, mean)
    diff = tp - mean
    if abs(diff) <= ZERO_EPSILON * abs(mean) or dev == 0.0:
        return 0.0
    return diff / (0.015 * (dev / period))


def cci_state(period: int) -> tuple[np.ndarray, np.ndarray]:
    """A fresh (window, state) pair for :func:`cci_push`."""
    return np.zeros(2 * period), np.zeros(3)


# Outputs per block of the batch CCI: five arrays of this many floats stay in L1.
_CCI_BLOCK = 512


@njit(cache=True)
def _cci_means(tp, period):
    """The running mean of the last ``period`` typical prices, exactly as :func:`cci_push`
    keeps it (running sum, re-summed every ``period`` candles); NaN while warming up."""
    n = tp.shape[0]
    means = np.empty(n)
    total = 0.0
    for i in range(n):
        count = i + 1
        total += tp[i] - tp[i - period] if count > period else tp[i]
        if count < period:
            means[i] = np.nan
            continue
        if count % period == 0:
            total = _window_sum(tp[i - period + 1 : i + 1])
        means[i] = total / period
    return means


@njit(cache=True)
def cci(high, low, close, period):
    """Commodity channel index (TA-Lib CCI), bit-identical to :func:`cci_push`.

    The mean absolute deviation is the cost (O(period) per candle).  Instead of one window
    at a time, it is summed for a block of outputs at once, the candle loop innermost: each
    output keeps the same four partial sums in the same order as ``_window_abs_dev``, but
    the loop over outputs has no dependency chain, so it vectorises.
    """
    n = close.shape[0]
    out = np.empty(n)
    tp = np.empty(n)
    for i in range(n):
        tp[i] = (high[i] + low[i] + close[i]) / 3.0
    means = _cci_means(tp, period)
    first = min(period - 1, n)
    for i in range(first):
        out[i] = np.nan
    s0 = np.empty(_CCI_BLOCK)
    s1 = np.empty(_CCI_BLOCK)
    s2 = np.empty(_CCI_BLOCK)
    s3 = np.empty(_CCI_BLOCK)
    for start in range(first, n, _CCI_BLOCK):
        size = min(_CCI_BLOCK, n - start)
        m = means[start : start + size]
        base = start - period + 1  # the window of output ``start + k`` is tp[base + k:][:period]
        s0[:size] = 0.0
        s1[:size] = 0.0
        s2[:size] = 0.0
        s3[:size] = 0.0
        for q in range(period // 4):
            w0 = tp[base + 4 * q : base + 4 * q + size]
            w1 = tp[base + 4 * q + 1 : base + 4 * q + 1 + size]
            w2 = tp[base + 4 * q + 2 : base + 4 * q + 2 + size]
            w3 = tp[base + 4 * q + 3 : base + 4 * q + 3 + size]
            for k in range(size):
                s0[k] += abs(w0[k] - m[k])
                s1[k] += abs(w1[k] - m[k])
                s2[k] += abs(w2[k] - m[k])
                s3[k] += abs(w3[k] - m[k])
        for j in range(period - period % 4, period):
            w = tp[base + j : base + j + size]
            for k in range(size):
                s0[k] += abs(w[k] - m[k])
        for k in range(size):
            i = start + k
            dev = (s0[k] + s1[k]) + (s2[k] + s3[k])
            diff = tp[i] - m[k]
            if abs(diff) <= ZERO_EPSILON * abs(m[k]) or dev == 0.0:
                out[i] = 0.0
            else:
                out[i] = diff / (0.015 * (dev / period))
    return out


class RsiStream:
    """RSI of close."""

    __slots__ = ("_a", "_b", "_count", "_gain", "_loss", "_period", "_prev")

    def __init__(self, period: int) -> None:
        self._period = period
        self._a = (period - 1) / period
        self._b = 1.0 / period
        self._count = 0
        self._prev = 0.0
        self._gain = 0.0
        self._loss = 0.0

    def update(self, open, high, low, close, volume, open_time_ms=-1):
        d = close - self._prev
        self._prev = close
        count = self._count
        if count > self._period:
            gain = math.fma(self._gain, self._a, (max(0.0, d)) * self._b)
            loss = math.fma(self._loss, self._a, (-d if d < 0.0 else 0.0) * self._b)
        else:
            self._count = count + 1
            if count == 0:
                return (NAN,)
            gain = self._gain
            loss = self._loss
            if d < 0.0:
                loss -= d
            else:
                gain += d
            if count < self._period:
                self._gain = gain
                self._loss = loss
                return (NAN,)
            gain /= self._period
            loss /= self._period
        self._gain = gain
        self._loss = loss
        s = gain + loss
        return (100.0 * (gain / s) if s != 0.0 else 0.0,)


class RocStream:
    """Rate of change of close."""

    __slots__ = ("_buf", "_count", "_period", "_pos")

    def __init__(self, period: int) -> None:
        self._period = period
        self._buf = [0.0] * period
        self._pos = 0
        self._count = 0

    def update(self, open, high, low, close, volume, open_time_ms=-1):
        pos = self._pos
        old = self._buf[pos]
        self._buf[pos] = close
        self._pos = pos + 1 if pos + 1 < self._period else 0
        if self._count < self._period:
            self._count += 1
            return (NAN,)
        return ((close / old - 1.0) * 100.0 if old != 0.0 else 0.0,)


class CciStream:
    """CCI of the typical price: one numba :func:`cci_push` call per candle."""

    __slots__ = ("_state", "_window")

    def __init__(self, period: int) -> None:
        self._window, self._state = cci_state(period)

    def update(self, open, high, low, close, volume, open_time_ms=-1):
        return (cci_push(self._window, self._state, (high + low + close) / 3.0),)
