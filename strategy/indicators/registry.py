"""The indicator catalogue: parameters, outputs, lookback, batch and stream per indicator.

``INDICATORS[name]`` is the one entry point the engine, the backend (validation) and the
dashboard (forms) use.  Parameters are plain dicts; missing ones take their defaults and
every value is checked against its :class:`ParamSpec` before any numba code runs.
Single-series indicators (sma, ema, wma, rsi, macd, bbands, roc) read ``close``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

from strategy.indicators import (
    channels,
    momentum,
    moving_averages,
    oscillators,
    trend,
    volatility,
    volume,
)
from strategy.indicators.candles import Candles
from strategy.indicators.streaming import Stream


class InvalidParams(ValueError):
    """A parameter dict an indicator cannot take; the message names the parameter."""


@dataclass(frozen=True, slots=True)
class ParamSpec:
    """One numeric parameter: ``kind`` is ``"int"`` or ``"float"``; bounds are inclusive."""

    name: str
    kind: str
    default: int | float
    min: int | float
    max: int | float
    description: str

    def check(self, value: object) -> int | float:
        """Return ``value`` coerced to this kind, or raise InvalidParams naming the parameter."""
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidParams(f"{self.name}: expected a number, got {value!r}")
        if self.kind == "int":
            if isinstance(value, float) and not value.is_integer():
                raise InvalidParams(f"{self.name}: expected an integer, got {value!r}")
            value = int(value)
        else:
            value = float(value)
        if not self.min <= value <= self.max:
            raise InvalidParams(f"{self.name}: {value!r} is outside [{self.min}, {self.max}]")
        return value


Params = dict[str, int | float]


@dataclass(frozen=True, slots=True)
class IndicatorSpec:
    """An indicator as the engine sees it; see the module docstring."""

    name: str
    description: str
    params: tuple[ParamSpec, ...]
    outputs: tuple[str, ...]
    _lookback: Callable[[Params], int] = field(repr=False)
    _batch: Callable[[Candles, Params], tuple[np.ndarray, ...]] = field(repr=False)
    _stream: Callable[[Params], Stream] = field(repr=False)

    def resolve(self, params: Mapping[str, object] | None = None) -> Params:
        """Defaults merged with ``params``, validated; unknown names are an error."""
        params = dict(params or {})
        unknown = set(params) - {p.name for p in self.params}
        if unknown:
            raise InvalidParams(f"{self.name}: unknown parameter(s) {sorted(unknown)}")
        return {p.name: p.check(params.get(p.name, p.default)) for p in self.params}

    def lookback(self, params: Mapping[str, object] | None = None) -> int:
        """Leading NaN outputs (TA-Lib's lookback); for adx the longest of its outputs."""
        return self._lookback(self.resolve(params))

    def batch(
        self, candles: Candles, params: Mapping[str, object] | None = None
    ) -> dict[str, np.ndarray]:
        """All outputs over all candles, each the length of the input.

        Columns are coerced to contiguous float64/int64 first (free when they already are),
        so the compiled kernels are never re-specialised for another dtype or layout.
        """
        arrays = self._batch(Candles.of(*candles), self.resolve(params))
        return dict(zip(self.outputs, arrays, strict=True))

    def stream(self, params: Mapping[str, object] | None = None) -> Stream:
        """Fresh streaming state; ``update`` returns outputs in ``outputs`` order."""
        return self._stream(self.resolve(params))


def _int(name: str, default: int, lo: int, hi: int, description: str) -> ParamSpec:
    return ParamSpec(name, "int", default, lo, hi, description)


def _float(name: str, default: float, lo: float, hi: float, description: str) -> ParamSpec:
    return ParamSpec(name, "float", default, lo, hi, description)


def _period(default: int, lo: int = 2, what: str = "Number of candles in the window") -> ParamSpec:
    return _int("period", default, lo, 100_000, what)


VALUE = ("value",)
BANDS = ("upper", "middle", "lower")

_SPECS = (
    IndicatorSpec(
        "sma",
        "Simple moving average of close.",
        (_period(20, 1),),
        VALUE,
        lambda p: moving_averages.sma_lookback(p["period"]),
        lambda c, p: (moving_averages.sma(c.close, p["period"]),),
        lambda p: moving_averages.SmaStream(p["period"]),
    ),
    IndicatorSpec(
        "ema",
        "Exponential moving average of close (k = 2/(period+1), SMA-seeded).",
        (_period(20, 1),),
        VALUE,
        lambda p: moving_averages.ema_lookback(p["period"]),
        lambda c, p: (moving_averages.ema(c.close, p["period"]),),
        lambda p: moving_averages.EmaStream(p["period"]),
    ),
    IndicatorSpec(
        "wma",
        "Linearly weighted moving average of close.",
        (_period(20, 1),),
        VALUE,
        lambda p: moving_averages.wma_lookback(p["period"]),
        lambda c, p: (moving_averages.wma(c.close, p["period"]),),
        lambda p: moving_averages.WmaStream(p["period"]),
    ),
    IndicatorSpec(
        "rsi",
        "Relative strength index of close, Wilder smoothing, 0..100.",
        (_period(14),),
        VALUE,
        lambda p: momentum.rsi_lookback(p["period"]),
        lambda c, p: (momentum.rsi(c.close, p["period"]),),
        lambda p: momentum.RsiStream(p["period"]),
    ),
    IndicatorSpec(
        "macd",
        "MACD of close: EMA(fast) - EMA(slow), its EMA(signal) and the histogram.",
        (
            _int("fast", 12, 2, 100_000, "Fast EMA period"),
            _int("slow", 26, 2, 100_000, "Slow EMA period"),
            _int("signal", 9, 1, 100_000, "Signal-line EMA period"),
        ),
        ("macd", "signal", "hist"),
        lambda p: oscillators.macd_lookback(p["fast"], p["slow"], p["signal"]),
        lambda c, p: oscillators.macd(c.close, p["fast"], p["slow"], p["signal"]),
        lambda p: oscillators.MacdStream(p["fast"], p["slow"], p["signal"]),
    ),
    IndicatorSpec(
        "bbands",
        "Bollinger bands of close: SMA +/- nbdev population standard deviations.",
        (_period(20), _float("nbdev", 2.0, 0.0, 100.0, "Band width in standard deviations")),
        BANDS,
        lambda p: volatility.bbands_lookback(p["period"]),
        lambda c, p: volatility.bbands(c.close, p["period"], p["nbdev"], p["nbdev"]),
        lambda p: volatility.BbandsStream(p["period"], p["nbdev"], p["nbdev"]),
    ),
    IndicatorSpec(
        "atr",
        "Average true range, Wilder smoothing.",
        (_period(14, 1),),
        VALUE,
        lambda p: volatility.atr_lookback(p["period"]),
        lambda c, p: (volatility.atr(c.high, c.low, c.close, p["period"]),),
        lambda p: volatility.AtrStream(p["period"]),
    ),
    IndicatorSpec(
        "adx",
        "Average directional index with +DI/-DI (0..100); +DI/-DI are valid from "
        "candle `period`, ADX from `2*period - 1`.",
        (_period(14),),
        ("adx", "plus_di", "minus_di"),
        lambda p: trend.adx_lookback(p["period"]),
        lambda c, p: trend.adx(c.high, c.low, c.close, p["period"]),
        lambda p: trend.AdxStream(p["period"]),
    ),
    IndicatorSpec(
        "stoch",
        "Slow stochastic: %K = SMA(slowk) of fast %K, %D = SMA(slowd) of %K (0..100).",
        (
            _int("fastk", 5, 1, 100_000, "Fast %K window (highest high / lowest low)"),
            _int("slowk", 3, 1, 100_000, "SMA period smoothing fast %K into %K"),
            _int("slowd", 3, 1, 100_000, "SMA period of %D over %K"),
        ),
        ("k", "d"),
        lambda p: oscillators.stoch_lookback(p["fastk"], p["slowk"], p["slowd"]),
        lambda c, p: oscillators.stoch(c.high, c.low, c.close, p["fastk"], p["slowk"], p["slowd"]),
        lambda p: oscillators.StochStream(p["fastk"], p["slowk"], p["slowd"]),
    ),
    IndicatorSpec(
        "cci",
        "Commodity channel index of the typical price (h+l+c)/3.",
        (_period(20),),
        VALUE,
        lambda p: momentum.cci_lookback(p["period"]),
        lambda c, p: (momentum.cci(c.high, c.low, c.close, p["period"]),),
        lambda p: momentum.CciStream(p["period"]),
    ),
    IndicatorSpec(
        "obv",
        "On-balance volume (starts at the first candle's volume).",
        (),
        VALUE,
        lambda p: volume.obv_lookback(),
        lambda c, p: (volume.obv(c.close, c.volume),),
        lambda p: volume.ObvStream(),
    ),
    IndicatorSpec(
        "vwap",
        "Cumulative volume-weighted typical price (h+l+c)/3, optionally reset every "
        "N candles and/or at each UTC midnight; with no volume yet it is the typical price.",
        (
            _int("reset_candles", 0, 0, 10_000_000, "Reset every N candles (0 = never)"),
            _int("reset_daily", 0, 0, 1, "1 = reset when the candle's UTC day changes"),
        ),
        VALUE,
        lambda p: volume.vwap_lookback(),
        lambda c, p: (
            volume.vwap(
                c.open_time_ms,
                c.high,
                c.low,
                c.close,
                c.volume,
                p["reset_candles"],
                p["reset_daily"],
            ),
        ),
        lambda p: volume.VwapStream(p["reset_candles"], p["reset_daily"]),
    ),
    IndicatorSpec(
        "roc",
        "Rate of change of close in percent: (close / close[period ago] - 1) * 100.",
        (_period(10, 1),),
        VALUE,
        lambda p: momentum.roc_lookback(p["period"]),
        lambda c, p: (momentum.roc(c.close, p["period"]),),
        lambda p: momentum.RocStream(p["period"]),
    ),
    IndicatorSpec(
        "donchian",
        "Donchian channel: highest high, lowest low over the window (current "
        "candle included) and their midpoint.",
        (_period(20, 1),),
        BANDS,
        lambda p: channels.donchian_lookback(p["period"]),
        lambda c, p: channels.donchian(c.high, c.low, p["period"]),
        lambda p: channels.DonchianStream(p["period"]),
    ),
    IndicatorSpec(
        "supertrend",
        "SuperTrend on Wilder ATR: the trailing band and direction (+1 up, -1 down).",
        (
            _period(10, 2, "ATR period"),
            _float("multiplier", 3.0, 0.0, 100.0, "Band distance in ATRs from (high+low)/2"),
        ),
        ("value", "direction"),
        lambda p: trend.supertrend_lookback(p["period"]),
        lambda c, p: trend.supertrend(c.high, c.low, c.close, p["period"], p["multiplier"]),
        lambda p: trend.SupertrendStream(p["period"], p["multiplier"]),
    ),
)

INDICATORS: dict[str, IndicatorSpec] = {spec.name: spec for spec in _SPECS}
