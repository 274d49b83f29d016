"""Technical indicators in two identical forms: numba batch over arrays and O(1) streams.

``INDICATORS`` maps a name to its :class:`IndicatorSpec` (parameters, outputs, lookback,
``batch(candles, params)`` and ``stream(params)``).  Conventions follow TA-Lib (0.8): the
first ``lookback`` outputs are NaN, smoothing and seeding are TA-Lib's, and the results
equal TA-Lib's within 1e-9 relative (tests/strategy/test_indicators_talib.py).  Candle
values are assumed finite; dropping or repairing bad candles is the caller's job.
"""

from strategy.indicators.candles import Candles
from strategy.indicators.registry import INDICATORS, IndicatorSpec, InvalidParams, ParamSpec
from strategy.indicators.streaming import Stream

__all__ = ["INDICATORS", "Candles", "IndicatorSpec", "InvalidParams", "ParamSpec", "Stream"]
