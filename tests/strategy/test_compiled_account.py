"""The compiled loop where the account matters — equity sizing, the drawdown and daily-loss
guards, funding — gives the Python loop's results to the last unit."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from strategy.backtest import BacktestConfig, run_backtest
from strategy.backtest.compiled import ask, unsupported
from strategy.backtest.compiled.edge import TradeColumns
from strategy.backtest.synthetic import random_walk
from strategy.decision import Rules
from strategy.kpis import DAY_MS
from strategy.template import validate_template
from tests.strategy.builders import MINUTE, START_MS, candles, template
from tests.strategy.test_backtest_fixtures import FEES, ROWS
from tests.strategy.test_compiled_backtest import EXIT_KINDS, assert_same

QUARTER_HOUR = 15 * MINUTE
STOP = {"type": "stop_loss", "params": {"pct": 1}}


@pytest.fixture
def asked(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Candles whose entry the compiled loop left to ``Rules.entry`` (the real answer runs)."""
    seen: list[int] = []
    real = ask.answer

    def spy(rules, params, candles, frame, atr, state, acct):
        seen.append(int(state[0]))
        return real(rules, params, candles, frame, atr, state, acct)

    monkeypatch.setattr(ask, "answer", spy)
    return seen


SIZING = st.sampled_from(
    [
        {"mode": "fixed_quantity", "value": 15},
        {"mode": "percent_equity", "value": 10},
        {"mode": "percent_equity", "value": 100},
        {"mode": "percent_equity", "value": 2.5},
        {"mode": "risk_per_trade", "value": 1},
        {"mode": "risk_per_trade", "value": 0.25},
    ]
)
GUARDS = st.lists(
    st.sampled_from(
        [
            {"type": "max_drawdown", "params": {"max_pct": 0.5}},
            {"type": "max_drawdown", "params": {"max_pct": 4}},
            {"type": "cooldown_after_loss", "params": {"bars": 5}},
        ]
    ),
    max_size=2,
    unique_by=lambda g: g["type"],
)
DAILY = st.sampled_from(
    [
        None,
        {"mode": "fraction", "value": 0.002},
        {"mode": "fraction", "value": 0.03},
        {"mode": "amount", "value": 10},
        {"mode": "amount", "value": 150},
    ]
)
OTHER_EXITS = st.lists(  # the stop comes apart: risk_per_trade needs one
    st.sampled_from([e for e in EXIT_KINDS if e["type"] not in ("stop_loss", "atr_stop")]),
    max_size=2,
    unique_by=lambda e: e["type"],
)


@given(
    sizing=SIZING,
    stop=st.sampled_from([STOP, {"type": "atr_stop", "params": {"period": 7, "multiplier": 2}}]),
    exits=OTHER_EXITS,
    guards=GUARDS,
    daily=DAILY,
    leverage=st.sampled_from([1, 2.5, 10]),
    lot=st.sampled_from([Decimal("0.001"), Decimal("0.5"), Decimal(1), Decimal("0.01")]),
    funding=st.sampled_from([Decimal(0), Decimal("0.0001"), Decimal("-0.00037")]),
    fee=st.sampled_from([Decimal("0.00055"), Decimal("0.001")]),
    slippage=st.sampled_from([Decimal(0), Decimal(2)]),
    period=st.integers(2, 20),
    seed=st.integers(0, 1000),
    start_price=st.sampled_from([3.7, 100.0, 64_000.0]),
)
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_compiled_equals_python_with_the_account_read(
    sizing, stop, exits, guards, daily, leverage, lot, funding, fee, slippage, period, seed,
    start_price,
):  # fmt: skip
    tpl = template(
        timeframe="15m",
        signals=[{"type": "donchian_breakout", "params": {"period": period}}],
        exits=[stop, *exits],
        guards=guards,
        risk={"sizing": sizing, "leverage": leverage, "daily_loss_limit": daily},
    )
    # 1,500 quarter hours: 15 UTC days and 47 funding times
    cs = random_walk(
        1500, seed=seed, price=start_price, volatility=0.004, timeframe_ms=QUARTER_HOUR
    )
    config = BacktestConfig(
        initial_equity=Decimal(10_000),
        taker_fee=fee,
        slippage_bps=slippage,
        # lots worth ~0.01..10 quote units: with slippage's 16-digit prices, finer lots would
        # take the account past Decimal's 28 digits (test_a_rounding_account_...)
        qty_step=lot.scaleb(1 - int(math.log10(start_price))),
        funding_rate=funding,
    )
    assert_same(tpl, cs, config)


# A losing long every 3 candles: flat, a breakout close (long signal), then a candle that
# opens at the entry and falls through the 1% stop (101 -> 99.99).
LOSER = [(100, 100, 100, 100), (100, 101, 100, 101), (101, 101, 98, 98)]


def test_a_drawdown_guard_that_trips_stops_trading_for_good():
    rows = [(100, 100, 100, 100)] * 2 + LOSER * 12
    tpl = template(
        exits=[STOP],
        guards=[{"type": "max_drawdown", "params": {"max_pct": 2}}],
        risk={"sizing": {"mode": "percent_equity", "value": 50}},
    )
    config = BacktestConfig(
        initial_equity=Decimal(10_000), taker_fee=Decimal("0.00055"), qty_step=Decimal("0.001")
    )
    assert_same(tpl, candles(rows), config)
    trades = run_backtest(tpl, candles(rows), config).trades
    equity = [Decimal(10_000)]
    for t in trades:
        equity.append(equity[-1] + t.pnl)
    assert all(t.pnl < 0 for t in trades) and 2 <= len(trades) < 12
    # every entry was taken above the limit; the last loss crossed it
    drawdown = [(equity[0] - e) / equity[0] * 100 for e in equity]
    assert drawdown[-2] < 2 <= drawdown[-1]
    assert trades[0].quantity == Decimal("49.504")  # 10,000 x 50% / 101, down to 0.001


@pytest.mark.parametrize(
    "limit", [{"mode": "amount", "value": 100}, {"mode": "fraction", "value": 0.01}]
)
def test_a_daily_loss_limit_blocks_until_utc_midnight(limit):
    start = START_MS - 12 * MINUTE  # 4 cycles before midnight, 4 after
    rows = LOSER * 8
    tpl = template(
        exits=[STOP],
        risk={"sizing": {"mode": "fixed_quantity", "value": 50}, "daily_loss_limit": limit},
    )
    config = BacktestConfig(initial_equity=Decimal(10_000), taker_fee=Decimal("0.001"))
    assert_same(tpl, candles(rows, start_ms=start), config)
    trades = run_backtest(tpl, candles(rows, start_ms=start), config).trades
    before = [t for t in trades if t.entry_time_ms < START_MS]
    after = [t for t in trades if t.entry_time_ms >= START_MS]
    # ~ -60.5 a trade: the second loss of a day reaches 100 (1% of 10,000), the third is
    # refused; at 00:00 the day's PnL starts again from 0
    assert len(before) == 2 and -before[0].pnl < 100 <= -(before[0].pnl + before[1].pnl)
    assert len(after) == 2 and after[0].entry_time_ms // DAY_MS == START_MS // DAY_MS


def test_funding_across_a_funding_time(asked):
    tpl = template(
        exits=[
            {"type": "stop_loss", "params": {"pct": 2}},
            {"type": "take_profit", "params": {"pct": 2}},
        ],
        # 10,000 x 10.1% / 101 = exactly 10 units: a whole number of lots, decided in Python
        risk={"sizing": {"mode": "percent_equity", "value": 10.1}},
    )
    cs = candles(ROWS, start_ms=START_MS - 4 * MINUTE)  # the long is held across 00:00 UTC
    rate = Decimal("0.0001")
    base = replace(FEES, initial_equity=Decimal(10_000), qty_step=Decimal("0.001"))
    funded = replace(base, funding_rate=rate)
    assert_same(tpl, cs, funded)
    assert asked  # the compiled run asked Rules.entry for that quantity
    seen: list[float] = []  # asking inside progress slices changes nothing
    sliced = run_backtest(tpl, cs, funded, progress=seen.append)
    assert sliced.to_json() == run_backtest(tpl, cs, funded).to_json() and seen[-1] == 1.0
    long, short = run_backtest(tpl, cs, funded).trades
    plain_long, plain_short = run_backtest(tpl, cs, base).trades
    assert long.quantity == Decimal(10)
    assert long.fees == plain_long.fees + 10 * Decimal(103) * rate  # 103: the open at 00:00
    assert short.fees == plain_short.fees  # opened after 00:00, closed before 08:00


def test_a_drawdown_exactly_at_its_limit_is_decided_by_python(asked):
    # fixed 10 units, fee 0.1%: the first trade loses 10 x (101 - 99.99) + fees
    # = 10.1 + 2.0099 = 12.1099 of 1,211.0 (1% drawdown to the cent... and to the last digit)
    rows = [(100, 100, 100, 100)] * 2 + LOSER * 3
    tpl = template(
        exits=[STOP],
        guards=[{"type": "max_drawdown", "params": {"max_pct": 1}}],
        risk={"sizing": {"mode": "fixed_quantity", "value": 10}},
    )
    config = BacktestConfig(initial_equity=Decimal("1210.99"), taker_fee=Decimal("0.001"))
    assert_same(tpl, candles(rows), config)
    trades = run_backtest(tpl, candles(rows), config, compiled=False).trades
    assert trades[0].pnl == Decimal("-12.1099") and len(trades) == 1  # 12.1099 / 1210.99 = 1%
    assert asked


def test_the_demo_template_runs_compiled():
    data = json.loads(Path("examples/templates/ma_cross.json").read_text())
    tpl = validate_template(data)
    cs = random_walk(20_000, seed=5, price=60_000, volatility=0.002, trend=0.05)
    config = BacktestConfig(qty_step=Decimal("0.001"), funding_rate=Decimal("0.0001"))
    assert unsupported(Rules(tpl), config, cs) is None
    assert_same(tpl, cs, config)
    assert isinstance(run_backtest(tpl, cs, config).trades, TradeColumns)


def test_a_rounding_account_leaves_the_backtest_to_python():
    # 16-digit fills (2 bps slippage) x 0.00001 lots x a 5-decimal fee: amounts with 24
    # decimals; an equity of 12 million has 30 digits then, and Decimal rounds it
    tpl = template(exits=[STOP], risk={"sizing": {"mode": "percent_equity", "value": 10}})
    cs = random_walk(600, seed=2, volatility=0.003)
    config = BacktestConfig(
        initial_equity=Decimal(12_345_678),
        slippage_bps=Decimal(2),
        qty_step=Decimal("0.00001"),
    )
    assert unsupported(Rules(tpl, config.qty_step), config, cs) is None  # allowed ...
    result = run_backtest(tpl, cs, config)
    assert isinstance(result.trades, list)  # ... but the loop found the account inexact
    assert result.to_json() == run_backtest(tpl, cs, config, compiled=False).to_json()
    assert len(str(result.trades[0].pnl).replace("-", "").replace(".", "")) > 20
