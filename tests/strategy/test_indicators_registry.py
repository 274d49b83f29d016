"""The indicator catalogue: names, outputs, parameter validation and result shapes."""

from __future__ import annotations

import numpy as np
import pytest

from strategy.backtest.synthetic import random_walk
from strategy.indicators import INDICATORS, ParamSpec

EXPECTED_OUTPUTS = {
    "sma": ("value",),
    "ema": ("value",),
    "wma": ("value",),
    "rsi": ("value",),
    "macd": ("macd", "signal", "hist"),
    "bbands": ("upper", "middle", "lower"),
    "atr": ("value",),
    "adx": ("adx", "plus_di", "minus_di"),
    "stoch": ("k", "d"),
    "cci": ("value",),
    "obv": ("value",),
    "vwap": ("value",),
    "roc": ("value",),
    "donchian": ("upper", "middle", "lower"),
    "supertrend": ("value", "direction"),
}


def test_catalogue_lists_every_indicator_with_its_outputs() -> None:
    assert {name: spec.outputs for name, spec in INDICATORS.items()} == EXPECTED_OUTPUTS
    assert all(spec.name == name and spec.description for name, spec in INDICATORS.items())


@pytest.mark.parametrize("name", sorted(INDICATORS))
def test_defaults_lie_inside_their_ranges_and_resolve(name: str) -> None:
    spec = INDICATORS[name]
    for p in spec.params:
        assert p.kind in ("int", "float") and p.min <= p.default <= p.max and p.description
    assert spec.resolve() == {p.name: p.default for p in spec.params}


@pytest.mark.parametrize("name", sorted(INDICATORS))
def test_batch_returns_every_output_at_input_length_and_stream_matches_arity(name: str) -> None:
    spec = INDICATORS[name]
    candles = random_walk(120, seed=8)
    out = spec.batch(candles)
    assert tuple(out) == spec.outputs
    assert all(v.shape == (120,) and v.dtype == np.float64 for v in out.values())
    assert len(spec.stream().update(100.0, 101.0, 99.0, 100.5, 10.0, 0)) == len(spec.outputs)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"period": 1}, "outside"),
        ({"period": 100_001}, "outside"),
        ({"period": 14.5}, "integer"),
        ({"period": True}, "number"),
        ({"period": "14"}, "number"),
        ({"length": 14}, "unknown"),
    ],
)
def test_bad_parameters_are_rejected_with_the_parameter_named(params: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        INDICATORS["rsi"].lookback(params)


def test_integral_floats_and_ints_for_floats_are_accepted() -> None:
    assert INDICATORS["rsi"].resolve({"period": 21.0}) == {"period": 21}
    assert INDICATORS["bbands"].resolve({"nbdev": 3}) == {"period": 20, "nbdev": 3.0}


def test_param_spec_is_plain_data() -> None:
    spec = ParamSpec("period", "int", 14, 2, 100, "Window")
    assert (spec.name, spec.kind, spec.default, spec.min, spec.max) == ("period", "int", 14, 2, 100)


def test_batch_accepts_integer_and_strided_columns_like_float_ones() -> None:
    candles = random_walk(60, seed=3)
    prices = np.round(candles.close).astype(np.int64)
    strided = np.repeat(candles.high, 2)[::2]
    as_ints = candles._replace(close=prices, high=strided)
    as_floats = candles._replace(close=prices.astype(float), high=strided.copy())
    for name in ("rsi", "stoch", "supertrend"):
        ours, ref = INDICATORS[name].batch(as_ints), INDICATORS[name].batch(as_floats)
        for key in ref:
            np.testing.assert_array_equal(ours[key], ref[key])
