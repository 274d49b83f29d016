"""Every exit type, on hand-made candles whose fills can be checked by hand.

The breakout template (tests/strategy/builders.py) signals long at the close of candle 2
(close 101 above the previous high 100); the entry fills at candle 3's open (102 here).
"""

from __future__ import annotations

from decimal import Decimal

from strategy.backtest import BacktestConfig, run_backtest
from tests.strategy.builders import FLAT, candles, template

NO_FEES = BacktestConfig(taker_fee=Decimal(0))
SIGNAL = [FLAT, FLAT, (100.0, 101.0, 100.0, 101.0)]


def only_trade(exits, rows, config=NO_FEES, **kw):
    result = run_backtest(template(exits=exits, **kw), candles(SIGNAL + rows), config)
    assert len(result.trades) == 1
    return result.trades[0]


def test_stop_loss_fills_at_the_stop_inside_the_candle():
    t = only_trade(
        [{"type": "stop_loss", "params": {"pct": 2}}],
        [(102, 104, 101.5, 103), (103, 103.5, 99.9, 100)],
    )
    assert (t.entry_index, t.entry_price) == (3, Decimal(102))
    assert (t.exit_index, t.exit_price, t.exit_reason) == (4, Decimal("99.96"), "stop_loss")


def test_stop_gapped_through_fills_at_the_open():
    t = only_trade(
        [{"type": "stop_loss", "params": {"pct": 2}}],
        [(102, 104, 101.5, 103), (99.0, 99.5, 98.0, 99.0)],
    )
    assert (t.exit_index, t.exit_price, t.exit_reason) == (4, Decimal(99), "stop_loss")


def test_take_profit_fills_at_the_target_as_a_market_order():
    config = BacktestConfig(taker_fee=Decimal("0.001"), slippage_bps=Decimal(0))
    t = only_trade(
        [{"type": "take_profit", "params": {"pct": 2}}],
        [(102, 103, 101.5, 102.5), (102.5, 104.5, 102, 104)],
        config,
    )
    assert (t.exit_index, t.exit_price, t.exit_reason) == (4, Decimal("104.04"), "take_profit")
    assert t.fees == (Decimal(102) + Decimal("104.04")) * Decimal("0.001")


def test_when_stop_and_target_both_fit_in_one_candle_the_stop_is_assumed():
    t = only_trade(
        [
            {"type": "stop_loss", "params": {"pct": 2}},
            {"type": "take_profit", "params": {"pct": 2}},
        ],
        [(102, 104.5, 99.5, 102)],
    )
    assert (t.exit_index, t.exit_price, t.exit_reason) == (3, Decimal("99.96"), "stop_loss")


def test_trailing_stop_arms_after_activation_and_trails_the_best_close_of_candles():
    rows = [
        (102, 103, 101.5, 102.5),  # best 103: +0.98%, below the 2% activation
        (102.5, 105, 101.6, 104.5),  # not armed during this candle; best 105 arms it
        (104.5, 104.8, 103.5, 104),
    ]  # level 105 * 0.99 = 103.95 is touched
    t = only_trade(
        [{"type": "trailing_stop", "params": {"distance_pct": 1, "activation_pct": 2}}], rows
    )
    assert (t.exit_index, t.exit_price, t.exit_reason) == (5, Decimal("103.95"), "trailing_stop")


def test_atr_stop_uses_the_atr_of_the_signal_candle():
    # ATR(1) at candle 2 is its true range, 1.0: stop = 102 - 2 * 1.0 = 100
    t = only_trade(
        [{"type": "atr_stop", "params": {"period": 1, "multiplier": 2}}],
        [(102, 103, 100.5, 101), (101, 101.5, 99.8, 100)],
    )
    assert (t.exit_index, t.exit_price, t.exit_reason) == (4, Decimal(100), "atr_stop")


def test_time_exit_leaves_at_the_open_after_max_bars():
    rows = [(102, 102.5, 101.8, 102), (102, 102.5, 101.8, 102.2), (102.3, 102.4, 102.2, 102.3)]
    t = only_trade([{"type": "time_exit", "params": {"max_bars": 2}}], rows)
    assert (t.exit_index, t.exit_price, t.exit_reason) == (5, Decimal("102.3"), "time_exit")


def test_break_even_moves_the_stop_to_entry_plus_offset():
    rows = [
        (102, 103.1, 101.9, 103),  # +1.08% >= 1%: stop moves to 102 * 1.001
        (103, 103.2, 102.0, 102.2),
    ]
    t = only_trade([{"type": "break_even", "params": {"trigger_pct": 1, "offset_pct": 0.1}}], rows)
    assert (t.exit_index, t.exit_price, t.exit_reason) == (4, Decimal("102.102"), "break_even")


def test_opposite_signal_exits_at_next_open_and_no_entry_on_the_exit_candle():
    rows = [
        (102, 102.5, 101.8, 102.2),
        (102.2, 102.3, 101.0, 101.5),  # close below the previous low: short signal
        (101.4, 101.5, 100.5, 100.6),  # exit at this open; its short signal is ignored
        (100.6, 100.7, 100.0, 100.1),  # short signal -> short entry at the next open
        (100.1, 100.2, 99.9, 100.0),
    ]
    result = run_backtest(
        template(exits=[{"type": "opposite_signal"}]), candles(SIGNAL + rows), NO_FEES
    )
    first, second = result.trades
    assert (first.exit_index, first.exit_price, first.exit_reason) == (
        5,
        Decimal("101.4"),
        "opposite_signal",
    )
    assert (second.side, second.entry_index, second.entry_price) == ("short", 7, Decimal("100.1"))
    assert second.exit_reason == "end_of_data"


def test_short_stop_is_above_the_entry():
    rows = [
        FLAT,
        FLAT,
        (100, 100, 99, 99),  # close below the previous low: short signal
        (98, 98.5, 97, 97.5),
        (97.5, 100, 97, 99.5),
    ]
    result = run_backtest(
        template(exits=[{"type": "stop_loss", "params": {"pct": 1}}]), candles(rows), NO_FEES
    )
    (t,) = result.trades
    assert (t.side, t.entry_price, t.exit_index) == ("short", Decimal(98), 4)
    assert (t.exit_price, t.exit_reason) == (Decimal("98.98"), "stop_loss")
    assert t.pnl == Decimal("-0.98")


def test_position_open_at_the_end_closes_at_the_last_close():
    t = only_trade([], [(102, 103, 101, 102.5), (102.5, 103, 102, 102.75)])
    assert (t.exit_index, t.exit_price, t.exit_reason) == (4, Decimal("102.75"), "end_of_data")
