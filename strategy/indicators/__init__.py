"""Technical indicators in two identical forms: numba batch over arrays and O(1) streams.

``INDICATORS`` maps a name to its :class:`IndicatorSpec` (parameters, outputs, lookback,
``batch(candles, params)`` and ``stream(params)``).  Conventions follow TA-Lib.
"""

from strategy.indicators.candles import Candles
from strategy.indicators.registry import INDICATORS, IndicatorSpec, InvalidParams, ParamSpec
from strategy.indicators.streaming import Stream

__all__ = ["INDICATORS", "Candles", "IndicatorSpec", "InvalidParams", "ParamSpec", "Stream"]
