"""How long an indicator remembers where its series started: the candles past its lookback
after which its value no longer depends (beyond float noise) on the first candle it saw.

A backtest starts its indicators at the first candle of the file; a bot that restarts (or
hot-swaps a template) starts them at the first candle of the history it fetched.  Windowed
indicators (SMA, WMA, Donchian, ROC, stochastic, CCI, Bollinger) forget their start as soon
as their window is full: ``settle`` is 0.  Recursive ones keep a geometrically fading memory
of their seed: an EMA with ``k = 2 / (period + 1)`` keeps ``(1 - k)^n`` of it after ``n``
candles, Wilder smoothing (RSI, ATR, ADX) ``(1 - 1/period)^n``.  ``settle`` is the ``n`` at
which that weight is below ``FORGET`` (2^-40, about 1e-12 of the seed's error): well under any
threshold a decision compares against, so a bot warmed on ``lookback + settle`` candles
decides as a backtest that started long before.  Chained smoothings add up (MACD: the slow
EMA, then the signal EMA of the MACD line; ADX: the DI smoothing, then the ADX's own).

SuperTrend's band ratchet and trend direction also remember their start until the price
crosses a band; its settle is its ATR's plus the same again as margin for that (checked by
the restart-parity test, not bounded in theory).  OBV's level and an un-reset VWAP never
forget their start (no component reads them): their settle is ``UNBOUNDED``, which callers
cap (see :data:`MAX_SETTLE`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

FORGET = 2.0**-40
UNBOUNDED = -1
# a cap for the history a caller fetches for parity (also the answer for UNBOUNDED)
MAX_SETTLE = 100_000


def fading(alpha: float) -> int:
    """Candles until a recursion ``x = (1 - alpha) * x + alpha * v`` forgets its seed."""
    if alpha >= 1.0:
        return 0
    return math.ceil(math.log(FORGET) / math.log1p(-alpha))


def _ema(period: int) -> int:
    return fading(2.0 / (period + 1))


def _wilder(period: int) -> int:
    return fading(1.0 / period)


def _vwap(p: Mapping[str, int | float]) -> int:
    resets = []
    if p["reset_candles"]:
        resets.append(int(p["reset_candles"]))
    if p["reset_daily"]:
        resets.append(1440)  # a UTC day of 1-minute candles: the most any timeframe needs
    return min(resets) if resets else UNBOUNDED


SETTLE: dict[str, Callable[[Mapping[str, int | float]], int]] = {
    "sma": lambda p: 0,
    "wma": lambda p: 0,
    "roc": lambda p: 0,
    "donchian": lambda p: 0,
    "stoch": lambda p: 0,
    "cci": lambda p: 0,
    "bbands": lambda p: 0,
    "ema": lambda p: _ema(int(p["period"])),
    "macd": lambda p: _ema(int(p["slow"])) + _ema(int(p["signal"])),
    "rsi": lambda p: _wilder(int(p["period"])),
    "atr": lambda p: _wilder(int(p["period"])),
    "adx": lambda p: 2 * _wilder(int(p["period"])),
    "supertrend": lambda p: 2 * _wilder(int(p["period"])),
    "obv": lambda p: UNBOUNDED,
    "vwap": _vwap,
}


def settle(indicator: str, params: Mapping[str, int | float]) -> int:
    """Candles past the lookback until ``indicator`` forgets its start, at most MAX_SETTLE."""
    n = SETTLE[indicator](params)
    return MAX_SETTLE if n == UNBOUNDED else min(n, MAX_SETTLE)
