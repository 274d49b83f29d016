"""Funding in the backtester: a position held across a funding time pays
side × quantity × price × rate there, as the exchange charges it."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from strategy.backtest import run_backtest
from strategy.backtest.funding import INTERVAL_MS, funding_cost, funding_times
from tests.strategy.builders import MINUTE, START_MS, candles, template
from tests.strategy.test_backtest_fixtures import FEES, ROWS


def test_funding_times_are_the_8h_marks_the_position_is_held_at():
    assert list(funding_times(START_MS - MINUTE, START_MS + MINUTE)) == [START_MS]
    assert list(funding_times(START_MS + MINUTE, START_MS + INTERVAL_MS)) == []
    assert len(funding_times(START_MS, START_MS + 3 * INTERVAL_MS)) == 3


def test_funding_cost_longs_pay_and_shorts_receive_a_positive_rate():
    def price_at(_: int) -> Decimal:
        return Decimal(100)

    rate = Decimal("0.0001")
    span = (START_MS - MINUTE, START_MS + INTERVAL_MS + MINUTE)  # two funding times
    assert funding_cost(1, Decimal(2), *span, rate, price_at) == Decimal("0.04")
    assert funding_cost(-1, Decimal(2), *span, rate, price_at) == Decimal("-0.04")


def test_a_backtest_trade_held_across_a_funding_time_pays_it():
    tpl = template(
        exits=[
            {"type": "stop_loss", "params": {"pct": 2}},
            {"type": "take_profit", "params": {"pct": 2}},
        ],
        risk={"sizing": {"mode": "fixed_quantity", "value": 2}},
    )
    start = START_MS - 4 * MINUTE  # the long is held from F-1min to F+1min, F = START_MS
    plain = run_backtest(tpl, candles(ROWS, start_ms=start), FEES).trades
    rate = Decimal("0.0001")
    funded = run_backtest(tpl, candles(ROWS, start_ms=start), replace(FEES, funding_rate=rate))
    long, short = funded.trades
    assert long.pnl == plain[0].pnl - 2 * Decimal(103) * rate  # 103: the open at F
    assert long.fees == plain[0].fees + 2 * Decimal(103) * rate
    assert short.pnl == plain[1].pnl
