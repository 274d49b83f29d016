"""Guards and the always-on risk limits block entries, never exits."""

from __future__ import annotations

from decimal import Decimal

from strategy.backtest import BacktestConfig, run_backtest
from strategy.components.state import AccountState
from strategy.decision import Rules
from tests.strategy.builders import FLAT, MINUTE, START_MS, candles, template

NOW = START_MS + 100 * MINUTE


def verdicts(account: AccountState, **kw) -> dict[str, bool]:
    rules = Rules(template(**kw))
    return {name: g.allowed for name, g in rules.guard_results(account, NOW)}


def test_cooldown_blocks_for_n_candles_after_a_loss():
    kw = {"guards": [{"type": "cooldown_after_loss", "params": {"bars": 5}}]}
    recent = AccountState(equity=Decimal(100), last_loss_exit_ms=NOW - 4 * MINUTE)
    old = AccountState(equity=Decimal(100), last_loss_exit_ms=NOW - 5 * MINUTE)
    assert verdicts(recent, **kw)["cooldown_after_loss"] is False
    assert verdicts(old, **kw)["cooldown_after_loss"] is True


def test_max_drawdown_blocks_at_the_limit():
    kw = {"guards": [{"type": "max_drawdown", "params": {"max_pct": 20}}]}
    assert verdicts(AccountState(Decimal(80), Decimal(100)), **kw)["max_drawdown"] is False
    assert verdicts(AccountState(Decimal("80.01"), Decimal(100)), **kw)["max_drawdown"] is True


def test_max_open_positions_is_always_enforced():
    kw = {"risk": {"sizing": {"mode": "fixed_quantity", "value": 1}, "max_open_positions": 2}}
    assert verdicts(AccountState(Decimal(100), open_positions=1), **kw)["max_open_positions"]
    assert not verdicts(AccountState(Decimal(100), open_positions=2), **kw)["max_open_positions"]


def test_daily_loss_limit_as_fraction_or_amount():
    def risk(limit):
        return {
            "risk": {"sizing": {"mode": "fixed_quantity", "value": 1}, "daily_loss_limit": limit}
        }

    lost = AccountState(Decimal(950), day_start_equity=Decimal(1000), day_realized_pnl=Decimal(-50))
    assert not verdicts(lost, **risk({"mode": "fraction", "value": 0.05}))["daily_loss_limit"]
    assert verdicts(lost, **risk({"mode": "fraction", "value": 0.06}))["daily_loss_limit"]
    assert not verdicts(lost, **risk({"mode": "amount", "value": 50}))["daily_loss_limit"]
    assert verdicts(lost, **risk({"mode": "amount", "value": 51}))["daily_loss_limit"]


LOSS_THEN_SIGNALS = [
    FLAT,
    FLAT,
    (100, 101, 100, 101),  # 2: long signal
    (102, 102, 99, 100),  # 3: entry 102, stop 101.49 hit -> loss (closes at 00:04)
    (100, 100, 99, 99.5),  # 4
    (99.5, 101, 99.5, 101),  # 5: long signal, decided 00:06: 2 candles after the loss
    (101, 101, 101, 101),  # 6
    (101, 101, 101, 101),  # 7
    (101, 102, 101, 102),  # 8: long signal, decided 00:09: 5 candles after the loss
    (102, 102, 102, 102),
]


def test_backtest_skips_signals_during_the_cooldown():
    tpl = template(
        exits=[{"type": "stop_loss", "params": {"pct": 0.5}}],
        guards=[{"type": "cooldown_after_loss", "params": {"bars": 5}}],
    )
    trades = run_backtest(tpl, candles(LOSS_THEN_SIGNALS)).trades
    assert [t.entry_index for t in trades] == [3, 9]


def test_backtest_stops_trading_for_the_day_after_the_daily_loss_limit():
    tpl = template(
        exits=[{"type": "stop_loss", "params": {"pct": 0.5}}],
        risk={
            "sizing": {"mode": "fixed_quantity", "value": 1},
            "daily_loss_limit": {"mode": "amount", "value": 0.5},
        },
    )
    config = BacktestConfig(taker_fee=Decimal(0))
    trades = run_backtest(tpl, candles(LOSS_THEN_SIGNALS), config).trades
    assert [t.entry_index for t in trades] == [3]
    assert trades[0].pnl == Decimal("-0.51")


def test_backtest_stops_entering_once_the_drawdown_limit_is_reached():
    tpl = template(
        exits=[{"type": "stop_loss", "params": {"pct": 0.5}}],
        guards=[{"type": "max_drawdown", "params": {"max_pct": 0.001}}],
    )
    trades = run_backtest(tpl, candles(LOSS_THEN_SIGNALS)).trades
    assert [t.entry_index for t in trades] == [3]  # -0.51 on 10,000 is a 0.0051% drawdown
