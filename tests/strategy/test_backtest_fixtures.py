"""Backtests on hand-made candles: trades, fees, slippage, MFE/MAE and the equity curve."""

from __future__ import annotations

import json
from decimal import Decimal

from strategy.backtest import BacktestConfig, run_backtest
from strategy.candles_csv import read_candles, write_candles
from tests.strategy.builders import FLAT, MINUTE, START_MS, candles, template

FEES = BacktestConfig(initial_equity=Decimal(1000), taker_fee=Decimal("0.001"))
ROWS = [
    FLAT,
    FLAT,
    (100, 101, 100, 101),  # 2: long signal
    (102, 104, 101.5, 103),  # 3: entry at 102; best 104, worst 101.5
    (103, 103.5, 99.9, 100),  # 4: stop 99.96 touched -> exit; short signal ignored
    (100, 100.5, 99.5, 99.6),  # 5: close below 99.9 -> short signal
    (99.5, 99.6, 97.0, 97.4),  # 6: short entry at 99.5; target 97.51 touched
    (97.4, 97.5, 97.3, 97.4),
]


def run(config=FEES):
    tpl = template(
        exits=[
            {"type": "stop_loss", "params": {"pct": 2}},
            {"type": "take_profit", "params": {"pct": 2}},
        ],
        risk={"sizing": {"mode": "fixed_quantity", "value": 2}},
    )
    return run_backtest(tpl, candles(ROWS), config)


def test_hand_computed_trades_fees_pnl_and_excursions():
    long, short = run().trades
    assert (long.side, long.quantity, long.entry_price, long.exit_price) == (
        "long",
        Decimal(2),
        Decimal(102),
        Decimal("99.96"),
    )
    assert long.entry_time_ms == START_MS + 3 * MINUTE
    assert long.exit_time_ms == START_MS + 5 * MINUTE  # the close of the stop candle
    assert long.fees == Decimal("0.204") + Decimal("0.19992")  # 2*102*0.001 + 2*99.96*0.001
    assert long.pnl == Decimal("-4.08") - Decimal("0.40392")
    assert long.mfe == Decimal(4)  # 2 * (104 - 102)
    assert long.mae == Decimal("4.08")  # 2 * (102 - 99.96)
    assert long.signal_state["signals"][0]["type"] == "donchian_breakout"

    assert (short.side, short.entry_index, short.entry_price) == ("short", 6, Decimal("99.5"))
    assert (short.exit_price, short.exit_reason) == (Decimal("97.51"), "take_profit")
    # the target is an exchange-side market order too: taker in, taker out
    assert short.fees == Decimal("0.199") + Decimal("0.19502")
    assert short.pnl == Decimal("3.98") - Decimal("0.39402")
    assert short.mfe == Decimal("3.98") and short.mae == Decimal(0)


def test_slippage_moves_market_and_stop_fills_against_the_trader():
    config = BacktestConfig(taker_fee=Decimal(0), slippage_bps=Decimal(10))
    long, short = run(config).trades
    assert long.entry_price == Decimal(102) * Decimal("1.001")
    assert short.entry_price == Decimal("99.5") * Decimal("0.999")
    # the stop level follows the slipped entry: 102.102 * 0.98, then slips by 10 bps
    assert long.exit_price == Decimal("100.05996") * Decimal("0.999")
    # the target level follows the slipped entry, and its market order slips too
    assert short.exit_price == Decimal(f"{99.4005 * 0.98:.12g}") * Decimal("1.001")


def test_equity_curve_marks_open_positions_to_the_close():
    result = run()
    long, short = result.trades
    eq = result.equity
    assert eq[2] == 1000
    assert abs(eq[3] - (1000 + 2 * (103 - 102) - 0.204)) < 1e-9
    assert abs(eq[4] - (1000 + float(long.pnl))) < 1e-9
    assert abs(eq[-1] - (1000 + float(long.pnl + short.pnl))) < 1e-9
    assert result.kpis.trade_count == 2
    assert result.kpis.net_pnl == long.pnl + short.pnl


def test_csv_round_trip_gives_the_same_backtest(tmp_path):
    path = tmp_path / "candles.csv"
    write_candles(path, candles(ROWS))
    assert path.read_text().splitlines()[0] == "open_time_ms,open,high,low,close,volume"
    tpl = template(exits=[{"type": "stop_loss", "params": {"pct": 2}}])
    a = run_backtest(tpl, candles(ROWS), FEES)
    b = run_backtest(tpl, read_candles(path), FEES)
    assert [t.to_json() for t in a.trades] == [t.to_json() for t in b.trades]
    json.dumps(b.to_json())
