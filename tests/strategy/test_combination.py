"""Combination modes: one combined score per candle from many signal scores."""

from __future__ import annotations

import numpy as np
import pytest

from strategy.backtest import run_backtest
from strategy.components.combination import combine
from tests.strategy.builders import FLAT, candles, template

# columns are candles, rows are three signals
SCORES = np.array(
    [
        [1.0, 1.0, 0.5, 1.0, -1.0, 0.0],
        [1.0, 0.6, -1.0, 0.0, -0.5, 0.0],
        [0.4, 0.0, -1.0, -1.0, -1.0, 0.0],
    ]
)
WEIGHTS = np.array([2.0, 1.0, 1.0])


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("weighted_sum", [3.4, 2.6, -1.0, 1.0, -3.5, 0.0]),
        ("weighted_average", [0.85, 0.65, -0.25, 0.25, -0.875, 0.0]),
        ("unanimous", [0.4, 0.0, 0.0, 0.0, -0.5, 0.0]),
        ("majority", [1.0, 2 / 3, -2 / 3, 0.0, -1.0, 0.0]),
        ("any", [1.0, 1.0, -1.0, 0.0, -1.0, 0.0]),
    ],
)
def test_each_mode_combines_scores_as_documented(mode, expected):
    # "any" with threshold 0.9: column 3 has +1 and -1 (conflict) -> 0; column 2 only -1 reaches
    assert combine(mode, SCORES, WEIGHTS, 0.9) == pytest.approx(expected)


def test_any_ignores_signals_below_the_threshold_on_the_other_side():
    scores = np.array([[1.0], [-0.3]])
    assert combine("any", scores, np.ones(2), 0.5)[0] == 1.0
    assert combine("any", scores, np.ones(2), 0.2)[0] == 0.0


@pytest.mark.parametrize(
    ("mode", "threshold", "trades"),
    [
        ("weighted_sum", 2.0, 1),  # both signals +1: 2 >= 2
        ("weighted_average", 1.0, 1),
        ("unanimous", 1.0, 1),
        ("majority", 0.9, 1),
        ("any", 1.0, 1),
    ],
)
def test_the_threshold_gates_entries_in_the_engine(mode, threshold, trades):
    tpl = template(
        signals=[
            {"type": "donchian_breakout", "params": {"period": 1}},
            {"type": "donchian_breakout", "params": {"period": 2}},
        ],
        combination={"mode": mode, "threshold": threshold},
    )
    rows = [FLAT, FLAT, (100, 101, 100, 101), (101, 101, 101, 101)]
    assert len(run_backtest(tpl, candles(rows)).trades) == trades
