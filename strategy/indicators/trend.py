"""ADX with +DI/-DI, and SuperTrend, batch (numba) and streaming.

ADX(period) is TA-Lib's ADX/PLUS_DI/MINUS_DI: from the second candle, +DM = up-move when it
is positive and larger than the down-move, -DM likewise; +DM, -DM and the true range are
summed over the first ``period - 1`` moves, then Wilder-smoothed as running sums
(``s = s * (period - 1) / period + x``).  +DI = 100 * +DM / TR (0 when TR is 0),
valid from candle ``period``; DX = 100 * |+DI - -DI| / (+DI + -DI); the first ADX (candle
``2 * period - 1``) is the mean of the first ``period`` DX values, then Wilder smoothing; a
DX whose DI sum is 0 is skipped, as in TA-Lib.

SuperTrend(period, multiplier) is TA-Lib's SUPERTREND (0.8), valid from candle ``period``:
with ``hl2 = (high + low) / 2`` and ``basic upper/lower = hl2 +/- multiplier * ATR`` (TA-Lib's
Wilder ATR), the final upper band is the basic one if it is below the previous final upper
band or the previous close was above that band, else the previous final upper band (the
lower band mirrors this).  The first valid candle starts an uptrend (direction +1, as TA-Lib
and ta4j; TradingView starts down).  An uptrend turns down (-1) when close < final lower; a
downtrend turns up (+1) when close > final upper.  ``value`` is the final lower band in an
uptrend and the final upper band in a downtrend.  ``direction`` is +1.0/-1.0 (NaN while
warming up, where TA-Lib's integer output says 0).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from strategy.indicators._fma import fma
from strategy.indicators.streaming import NAN
from strategy.indicators.volatility import AtrCore, atr_into, true_range, true_range_py


def adx_lookback(period: int) -> int:
    return 2 * period - 1


def supertrend_lookback(period: int) -> int:
    return period


def directional_moves_py(up: float, down: float) -> tuple[float, float]:
    """One candle's (+DM, -DM) from the high's up-move and the low's down-move."""
    plus = up if (up > 0.0 and up > down) else 0.0
    minus = down if (down > 0.0 and up < down) else 0.0
    return plus, minus


directional_moves = njit(cache=True, inline="always")(directional_moves_py)  # same source


@njit(cache=True)
def adx(high, low, close, period):
    """ADX, +DI and -DI (TA-Lib ADX, PLUS_DI, MINUS_DI)."""
    n = close.shape[0]
    rows = np.empty((3, n))  # one block: cheaper to allocate and free than three arrays
    adx_out, plus_out, minus_out = rows[0], rows[1], rows[2]
    for i in range(min(2 * period - 1, n)):
        adx_out[i] = np.nan
    for i in range(min(period, n)):
        plus_out[i] = np.nan
        minus_out[i] = np.nan
    a = (period - 1) / period
    b = 1.0 / period
    plus_dm = 0.0
    minus_dm = 0.0
    tr = 0.0
    dx_sum = 0.0
    value = 0.0
    for i in range(1, n):
        plus, minus = directional_moves(high[i] - high[i - 1], low[i - 1] - low[i])
        r = true_range(high[i], low[i], close[i - 1])
        if i < period:
            plus_dm += plus
            minus_dm += minus
            tr += r
            continue
        plus_dm = fma(plus_dm, a, plus)
        minus_dm = fma(minus_dm, a, minus)
        tr = fma(tr, a, r)
        plus_di = 0.0
        minus_di = 0.0
        dx = 0.0
        has_dx = False
        if tr != 0.0:
            plus_di = 100.0 * (plus_dm / tr)
            minus_di = 100.0 * (minus_dm / tr)
            s = plus_di + minus_di
            if s != 0.0:
                has_dx = True
                dx = 100.0 * (abs(minus_di - plus_di) / s)
        plus_out[i] = plus_di
        minus_out[i] = minus_di
        if i < 2 * period - 1:
            dx_sum += dx
        elif i == 2 * period - 1:
            value = (dx_sum + dx) / period
            adx_out[i] = value
        else:
            if has_dx:
                value = fma(value, a, dx * b)
            adx_out[i] = value
    return adx_out, plus_out, minus_out


@njit(cache=True)
def supertrend(high, low, close, period, multiplier):
    """SuperTrend value and direction (+1.0 up, -1.0 down); see the module docstring."""
    n = close.shape[0]
    rows = np.empty((3, n))  # value, direction, and the ATR as scratch: one block
    value, direction = rows[0], rows[1]
    ranges = atr_into(high, low, close, period, rows[2])
    for i in range(min(period, n)):
        value[i] = np.nan
        direction[i] = np.nan
    upper = 0.0
    lower = 0.0
    trend = 1.0
    for i in range(period, n):
        hl2 = (high[i] + low[i]) * 0.5
        band = multiplier * ranges[i]
        basic_upper = hl2 + band
        basic_lower = hl2 - band
        if i == period:
            upper = basic_upper
            lower = basic_lower
        else:
            prev_close = close[i - 1]
            if basic_upper < upper or prev_close > upper:
                upper = basic_upper
            if basic_lower > lower or prev_close < lower:
                lower = basic_lower
            if trend < 0.0:
                trend = 1.0 if close[i] > upper else -1.0
            else:
                trend = -1.0 if close[i] < lower else 1.0
        value[i] = lower if trend > 0.0 else upper
        direction[i] = trend
    return value, direction


class AdxStream:
    """ADX, +DI and -DI of high/low/close."""

    __slots__ = (
        "_a",
        "_adx",
        "_b",
        "_count",
        "_dx_sum",
        "_minus_dm",
        "_period",
        "_plus_dm",
        "_prev_close",
        "_prev_high",
        "_prev_low",
        "_tr",
    )

    def __init__(self, period: int) -> None:
        self._period = period
        self._a = (period - 1) / period
        self._b = 1.0 / period
        self._count = 0
        self._prev_high = self._prev_low = self._prev_close = 0.0
        self._plus_dm = self._minus_dm = self._tr = 0.0
        self._dx_sum = self._adx = 0.0

    def update(self, open, high, low, close, volume, open_time_ms=-1):
        i = self._count
        self._count = i + 1
        plus, minus = directional_moves_py(high - self._prev_high, self._prev_low - low)
        r = true_range_py(high, low, self._prev_close)
        self._prev_high, self._prev_low, self._prev_close = high, low, close
        if i == 0:
            return (NAN, NAN, NAN)
        period = self._period
        if i < period:
            self._plus_dm += plus
            self._minus_dm += minus
            self._tr += r
            return (NAN, NAN, NAN)
        a = self._a
        self._plus_dm = plus_dm = math.fma(self._plus_dm, a, plus)
        self._minus_dm = minus_dm = math.fma(self._minus_dm, a, minus)
        self._tr = tr = math.fma(self._tr, a, r)
        plus_di = minus_di = dx = 0.0
        has_dx = False
        if tr != 0.0:
            plus_di = 100.0 * (plus_dm / tr)
            minus_di = 100.0 * (minus_dm / tr)
            s = plus_di + minus_di
            if s != 0.0:
                has_dx = True
                dx = 100.0 * (abs(minus_di - plus_di) / s)
        if i < 2 * period - 1:
            self._dx_sum += dx
            return (NAN, plus_di, minus_di)
        if i == 2 * period - 1:
            self._adx = (self._dx_sum + dx) / period
        elif has_dx:
            self._adx = math.fma(self._adx, a, dx * self._b)
        return (self._adx, plus_di, minus_di)


class SupertrendStream:
    """SuperTrend of high/low/close."""

    __slots__ = (
        "_atr",
        "_count",
        "_lower",
        "_multiplier",
        "_period",
        "_prev_close",
        "_trend",
        "_upper",
    )

    def __init__(self, period: int, multiplier: float) -> None:
        self._period = period
        self._multiplier = multiplier
        self._atr = AtrCore(period)
        self._count = 0
        self._prev_close = 0.0
        self._upper = self._lower = 0.0
        self._trend = 1.0

    def update(self, open, high, low, close, volume, open_time_ms=-1):
        atr_value = self._atr.push(high, low, close)
        i = self._count
        self._count = i + 1
        prev_close = self._prev_close
        self._prev_close = close
        if i < self._period:
            return (NAN, NAN)
        hl2 = (high + low) * 0.5
        band = self._multiplier * atr_value
        basic_upper = hl2 + band
        basic_lower = hl2 - band
        if i == self._period:
            upper, lower, trend = basic_upper, basic_lower, 1.0
        else:
            upper, lower, trend = self._upper, self._lower, self._trend
            if basic_upper < upper or prev_close > upper:
                upper = basic_upper
            if basic_lower > lower or prev_close < lower:
                lower = basic_lower
            if trend < 0.0:
                trend = 1.0 if close > upper else -1.0
            else:
                trend = -1.0 if close < lower else 1.0
        self._upper, self._lower, self._trend = upper, lower, trend
        return (lower if trend > 0.0 else upper, trend)
