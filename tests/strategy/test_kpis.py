"""KPI definitions on hand-computed fixtures."""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import pytest

from strategy.kpis import DAY_MS, compute_kpis, drawdown, period_returns


@dataclass
class T:
    pnl: Decimal
    fees: Decimal
    entry_time_ms: int
    exit_time_ms: int


HOUR = 3_600_000
TRADES = [
    T(Decimal(30), Decimal(1), 0, 2 * HOUR),
    T(Decimal(-10), Decimal(1), 3 * HOUR, 4 * HOUR),
    T(Decimal(-20), Decimal(2), 5 * HOUR, 8 * HOUR),
    T(Decimal(50), Decimal(2), 10 * HOUR, 12 * HOUR),
]


def test_trade_kpis():
    k = compute_kpis(TRADES, [0, 12 * HOUR], [1000, 1050], Decimal(1000), 0, 24 * HOUR)
    assert k.net_pnl == Decimal(50)
    assert k.return_pct == Decimal(5)
    assert k.win_rate == 0.5
    assert k.profit_factor == pytest.approx(80 / 30)
    assert k.expectancy == Decimal("12.5")
    assert k.fees == Decimal(6)
    assert k.trade_count == 4
    assert k.avg_hold_ms == 2 * HOUR
    assert k.exposure == pytest.approx(8 / 24)


def test_no_trades_gives_empty_ratios():
    k = compute_kpis([], [0], [1000], Decimal(1000), 0, DAY_MS)
    assert (k.win_rate, k.profit_factor, k.expectancy, k.sharpe) == (None, None, None, None)
    assert k.net_pnl == 0 and k.exposure == 0


def test_drawdown_is_peak_to_trough():
    amount, pct = drawdown(np.array([100.0, 120, 90, 130, 117]))
    assert amount == 30 and pct == pytest.approx(25.0)


def test_sharpe_and_sortino_from_daily_equity():
    times = np.array([0, DAY_MS - 1, DAY_MS + 5, 2 * DAY_MS + 5, 3 * DAY_MS + 5])
    values = np.array([100.0, 110.0, 99.0, 108.9, 108.9])
    r = period_returns(times, values)
    assert r == pytest.approx([0.1, -0.1, 0.1, 0.0])
    k = compute_kpis([], times, values, Decimal(100), 0, 4 * DAY_MS)
    mean, std = 0.025, np.std([0.1, -0.1, 0.1, 0.0], ddof=1)
    assert k.sharpe == pytest.approx(mean / std * math.sqrt(365))
    assert k.sortino == pytest.approx(mean / math.sqrt(0.01 / 4) * math.sqrt(365))
    assert k.max_drawdown == Decimal("11.0")
    assert k.max_drawdown_pct == pytest.approx(10.0)
