"""The streaming form equals the batch form at every step, and lookback() is the warm-up."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from strategy.backtest.synthetic import random_walk
from strategy.indicators import INDICATORS, Candles

HOUR_MS = 3_600_000

PARAM_SETS: list[tuple[str, dict]] = [(name, {}) for name in INDICATORS] + [
    ("sma", {"period": 1}),
    ("ema", {"period": 1}),
    ("wma", {"period": 1}),
    ("sma", {"period": 2}),
    ("ema", {"period": 2}),
    ("wma", {"period": 2}),
    ("rsi", {"period": 2}),
    ("rsi", {"period": 30}),
    ("macd", {"fast": 26, "slow": 12, "signal": 1}),
    ("macd", {"fast": 3, "slow": 3, "signal": 4}),
    ("bbands", {"period": 2, "nbdev": 0.5}),
    ("atr", {"period": 1}),
    ("adx", {"period": 2}),
    ("adx", {"period": 25}),
    ("stoch", {"fastk": 1, "slowk": 1, "slowd": 1}),
    ("stoch", {"fastk": 14, "slowk": 5, "slowd": 2}),
    ("cci", {"period": 2}),
    ("cci", {"period": 7}),  # a remainder after the four partial sums
    ("cci", {"period": 333}),  # a window wider than the batch block
    ("roc", {"period": 1}),
    ("donchian", {"period": 1}),
    ("vwap", {"reset_candles": 7}),
    ("vwap", {"reset_daily": 1}),
    ("vwap", {"reset_candles": 5, "reset_daily": 1}),
    ("supertrend", {"period": 2, "multiplier": 0.0}),
    ("supertrend", {"period": 21, "multiplier": 1.5}),
]


def stream_all(name: str, params: dict, candles: Candles) -> dict[str, np.ndarray]:
    spec = INDICATORS[name]
    stream = spec.stream(params)
    rows = [
        stream.update(o, h, lo, c, v, t)
        for t, o, h, lo, c, v in zip(*(col.tolist() for col in candles), strict=True)
    ]
    columns = np.array(rows, dtype=float).reshape(len(rows), len(spec.outputs))
    return {output: columns[:, j] for j, output in enumerate(spec.outputs)}


def assert_identical(a: dict[str, np.ndarray], b: dict[str, np.ndarray], label: str) -> None:
    assert a.keys() == b.keys()
    for key, values in a.items():
        mismatch = ~((values == b[key]) | (np.isnan(values) & np.isnan(b[key])))
        assert not mismatch.any(), f"{label}.{key}: first mismatch at {np.argmax(mismatch)}"


def leading_nans(values: np.ndarray) -> int:
    finite = np.flatnonzero(~np.isnan(values))
    return int(finite[0]) if finite.size else len(values)


@pytest.mark.parametrize(("name", "params"), PARAM_SETS, ids=[f"{n}-{p}" for n, p in PARAM_SETS])
def test_stream_equals_batch_bit_for_bit_at_every_candle(name: str, params: dict) -> None:
    candles = random_walk(700, seed=11, timeframe_ms=HOUR_MS)  # ~29 UTC days, for daily resets
    assert_identical(
        stream_all(name, params, candles), INDICATORS[name].batch(candles, params), name
    )


@pytest.mark.parametrize(("name", "params"), PARAM_SETS, ids=[f"{n}-{p}" for n, p in PARAM_SETS])
def test_lookback_is_the_number_of_leading_nans_and_nothing_after_is_nan(
    name: str, params: dict
) -> None:
    spec = INDICATORS[name]
    outputs = spec.batch(random_walk(400, seed=2), params)
    assert max(leading_nans(v) for v in outputs.values()) == spec.lookback(params)
    assert all(not np.isnan(v[leading_nans(v) :]).any() for v in outputs.values())


def test_adx_directional_indicators_are_valid_before_adx_as_in_talib() -> None:
    out = INDICATORS["adx"].batch(random_walk(100, seed=1), {"period": 14})
    assert (
        leading_nans(out["plus_di"]),
        leading_nans(out["minus_di"]),
        leading_nans(out["adx"]),
    ) == (14, 14, 27)


def test_daily_vwap_stream_refuses_candles_without_a_time() -> None:
    stream = INDICATORS["vwap"].stream({"reset_daily": 1})
    with pytest.raises(ValueError, match="open_time_ms"):
        stream.update(1.0, 2.0, 0.5, 1.5, 10.0)


def test_streams_are_independent_of_each_other() -> None:
    candles = random_walk(50, seed=4)
    first, second = INDICATORS["ema"].stream({"period": 5}), INDICATORS["ema"].stream({"period": 5})
    for c in candles.close[:30].tolist():
        first.update(c, c, c, c, 1.0)
    assert np.isnan(second.update(1.0, 1.0, 1.0, 1.0, 1.0)[0])


@st.composite
def candles_with_ties(draw: st.DrawFn) -> Candles:
    """Short candle series on a coarse price grid, so flat stretches and equal extremes occur."""
    n = draw(st.integers(0, 60))
    ticks = st.integers(1, 12)
    close = np.array(draw(st.lists(ticks, min_size=n, max_size=n)), dtype=float)
    up = np.array(draw(st.lists(st.integers(0, 3), min_size=n, max_size=n)), dtype=float)
    down = np.array(draw(st.lists(st.integers(0, 3), min_size=n, max_size=n)), dtype=float)
    volume = np.array(draw(st.lists(st.integers(0, 5), min_size=n, max_size=n)), dtype=float)
    hours = np.cumsum(draw(st.lists(st.integers(1, 9), min_size=n, max_size=n)))
    return Candles.of(hours * HOUR_MS, close, close + up, close - down, close, volume)


@st.composite
def indicator_and_params(draw: st.DrawFn) -> tuple[str, dict]:
    name = draw(st.sampled_from(sorted(INDICATORS)))
    params = {}
    for p in INDICATORS[name].params:
        if p.kind == "int":
            params[p.name] = draw(st.integers(int(p.min), min(int(p.max), max(int(p.min), 12))))
        else:
            params[p.name] = draw(st.floats(p.min, min(p.max, 4.0), allow_nan=False))
    return name, params


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(indicator_and_params(), candles_with_ties())
def test_stream_equals_batch_on_flat_and_tied_prices(
    case: tuple[str, dict], candles: Candles
) -> None:
    name, params = case
    batch = INDICATORS[name].batch(candles, params)
    assert_identical(stream_all(name, params, candles), batch, name)
    lookback = INDICATORS[name].lookback(params)
    warm_up = max((leading_nans(v) for v in batch.values()), default=0)
    assert warm_up == min(lookback, len(candles.close))
