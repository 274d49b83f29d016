"""Bollinger bands: exact on flat windows, no breakout at zero width, no drift over 1M candles."""

from __future__ import annotations

import statistics

import numpy as np
import talib

from strategy.backtest import run_backtest
from strategy.backtest.synthetic import random_walk
from strategy.indicators import INDICATORS
from tests.strategy.builders import candles, template

BB = INDICATORS["bbands"]
BREAKOUT = template(signals=[{"type": "bollinger_breakout", "params": {"period": 20, "nbdev": 2}}])


def _flat_rows(price: float, n: int) -> list[tuple[float, float, float, float]]:
    return [(price, price, price, price)] * n


def _bands(cs, period=20):
    batch = BB.batch(cs, {"period": period, "nbdev": 2.0})
    stream = BB.stream({"period": period, "nbdev": 2.0})
    streamed = np.array(
        [stream.update(o, h, lo, c, v) for _, o, h, lo, c, v in zip(*cs, strict=True)]
    )
    for k, name in enumerate(("upper", "middle", "lower")):
        np.testing.assert_array_equal(streamed[:, k], batch[name])  # bit-identical
    return batch


def test_a_flat_market_has_zero_width_bands_at_exactly_the_price():
    for price in (0.1, 100.03, 64_321.7, 3e-5):
        b = _bands(candles(_flat_rows(price, 300)))
        assert np.all(b["middle"][19:] == price)
        assert np.all(b["upper"][19:] == price)
        assert np.all(b["lower"][19:] == price)


def test_a_flat_market_never_breaks_out():
    result = run_backtest(BREAKOUT, candles(_flat_rows(100.03, 300)))
    assert result.trades == []


def test_after_a_step_then_a_flat_run_the_width_is_exactly_zero():
    rows = _flat_rows(100.0, 40) + _flat_rows(110.0, 60)
    b = _bands(candles(rows))
    assert b["upper"][45] > b["lower"][45]  # the step is inside the window
    assert np.all(b["upper"][59:] == 110.0) and np.all(b["lower"][59:] == 110.0)
    assert (
        run_backtest(BREAKOUT, candles(rows + _flat_rows(110.0, 200))).trades[-1].entry_index < 60
    )


def test_the_deviation_does_not_drift_over_a_million_candles():
    cs = random_walk(1_000_000, seed=4, volatility=0.002)
    ours = BB.batch(cs, {"period": 20, "nbdev": 1.0})
    ta_upper, ta_middle, _ = talib.BBANDS(cs.close, 20, 1.0, 1.0)
    for i in (19, 200_000, 999_999):
        window = [float(x) for x in cs.close[i - 19 : i + 1]]
        exact_mid = statistics.fmean(window)
        exact_dev = statistics.pstdev(window)  # computed exactly, then rounded
        our_err = abs(ours["upper"][i] - ours["middle"][i] - exact_dev)
        ta_err = abs(ta_upper[i] - ta_middle[i] - exact_dev)
        assert our_err <= max(ta_err, 1e-12 * exact_mid), i
        assert abs(ours["middle"][i] - exact_mid) <= 1e-14 * exact_mid, i
