"""Backtester benchmark: plutarc vs backtesting.py on the same 525,600 one-minute candles.

Prints, in one run:
1. three templates over 525,600 candles, each with the compiled trade loop and on the Python
   loop (``compiled=False``, the baseline) in the same run, with candles per second (goal
   >= 10M on the compiled loop) and whether both give the same results:
   * a 3-signal template (ma_cross + rsi_reversal + macd_histogram, stop/target/opposite
     exits), fixed quantity;
   * the same template reading the account: 10% of equity a trade, a max_drawdown guard
     and a daily loss limit checked at every entry (neither trips over this year), funding
     every 8 h;
   * the demo template (examples/templates/ma_cross.json: percent_equity sizing,
     max_drawdown guard, daily loss limit, trailing stop), with funding — its 25% drawdown
     guard ends its trading early on this losing random walk (the line says where);
2. the same SMA-cross strategy in plutarc and in backtesting.py (the latter given plutarc's
   SMA arrays so both see identical indicator values), their times, the speed ratio
   (goal >= 50x) and whether every entry/exit bar and price matches.

A compiled backtest builds its ``Trade`` objects when ``result.trades`` is first read; the
time to build them is printed separately (KPIs, equity and the JSON summary never need it).

Run: .venv/bin/python bench/backtest.py [--candles N] [--seed S]
"""

from __future__ import annotations

import argparse
import json
import os
import time
import warnings
from decimal import Decimal
from pathlib import Path

import pandas as pd
from backtesting import Backtest, Strategy

from strategy.backtest import BacktestConfig, run_backtest
from strategy.backtest.compiled import unsupported
from strategy.backtest.compiled.edge import TradeColumns
from strategy.backtest.synthetic import random_walk
from strategy.decision import Rules
from strategy.indicators import INDICATORS, Candles
from strategy.template import Template, validate_template

FEE = Decimal("0.00055")


def _template(signals, exits, mode="weighted_sum", threshold=1.0, **extra):
    return validate_template(
        {
            "schema_version": 1,
            "name": "bench",
            "symbol": "BTCUSDT",
            "timeframe": "1m",
            "long_enabled": True,
            "short_enabled": True,
            "signals": signals,
            "exits": exits,
            "combination": {"mode": mode, "threshold": threshold},
            "risk": {"sizing": {"mode": "fixed_quantity", "value": 1}},
            **extra,
        }
    )


THREE = (
    [
        {"type": "ma_cross", "params": {"fast": 10, "slow": 30, "mode": "trend"}},
        {"type": "rsi_reversal", "params": {"period": 14}},
        {"type": "macd_histogram"},
    ],
    [
        {"type": "stop_loss", "params": {"pct": 1}},
        {"type": "take_profit", "params": {"pct": 2}},
        {"type": "opposite_signal"},
    ],
)
THREE_SIGNALS = _template(*THREE, mode="weighted_average", threshold=0.6)
THREE_SIGNALS_EQUITY = _template(
    *THREE,
    mode="weighted_average",
    threshold=0.6,
    guards=[{"type": "max_drawdown", "params": {"max_pct": 90}}],  # checked, never trips
    risk={
        "sizing": {"mode": "percent_equity", "value": 10},
        "daily_loss_limit": {"mode": "fraction", "value": 0.05},
    },
)
DEMO = validate_template(
    json.loads((Path(__file__).parent.parent / "examples/templates/ma_cross.json").read_text())
)


def sma_cross(fast: int, slow: int):
    return _template(
        [{"type": "ma_cross", "params": {"fast": fast, "slow": slow, "mode": "trend"}}],
        [{"type": "opposite_signal"}],
    )


def timed(fn, repeat: int = 3):
    """(best wall seconds, best CPU seconds of this process, result) over ``repeat`` runs.

    CPU time is printed too: on a shared 2-core machine wall time swings with other load.
    """
    wall, cpu, out = float("inf"), float("inf"), None
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        wall = min(wall, time.perf_counter() - t0)
        cpu = min(cpu, time.process_time() - c0)
    return wall, cpu, out


def backtesting_py(candles: Candles, warmup: int, fast_n: int, slow_n: int):
    """The SMA cross in backtesting.py, with plutarc's rules written out by hand."""
    fast = INDICATORS["sma"].batch(candles, {"period": fast_n})["value"]
    slow = INDICATORS["sma"].batch(candles, {"period": slow_n})["value"]

    class SmaCross(Strategy):
        def init(self):
            self.fast = self.I(lambda: fast, name="fast")
            self.slow = self.I(lambda: slow, name="slow")

        def next(self):
            i = len(self.data) - 1
            f, s = self.fast[-1], self.slow[-1]
            if self.position:
                if (self.position.is_long and f < s) or (self.position.is_short and f > s):
                    self.position.close()
                return
            if i < warmup - 1 or (self.closed_trades and self.closed_trades[-1].exit_bar == i):
                return  # plutarc: warm-up, and no entry on the candle a position closed in
            if f > s:
                self.buy(size=1)
            elif f < s:
                self.sell(size=1)

    frame = pd.DataFrame(
        {
            "Open": candles.open,
            "High": candles.high,
            "Low": candles.low,
            "Close": candles.close,
            "Volume": candles.volume,
        },
        index=pd.to_datetime(candles.open_time_ms, unit="ms"),
    )
    bt = Backtest(frame, SmaCross, cash=1_000_000, commission=float(FEE))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        stats = bt.run()
    return stats["_trades"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--candles", type=int, default=525_600)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    candles = random_walk(args.candles, seed=args.seed, trend=0.05)
    config = BacktestConfig(initial_equity=Decimal(1_000_000), taker_fee=FEE)
    # the account-reading runs: BTC's lot size, Bybit's base funding rate
    account = BacktestConfig(
        initial_equity=Decimal(1_000_000),
        taker_fee=FEE,
        qty_step=Decimal("0.001"),
        funding_rate=Decimal("0.0001"),
    )
    for tpl, cfg in ((THREE_SIGNALS, config), (THREE_SIGNALS_EQUITY, account), (DEMO, account)):
        run_backtest(tpl, Candles(*(c[:2000] for c in candles)), cfg)  # JIT warm-up
    n = args.candles
    print(f"candles: {n:,} (1m random walk, seed {args.seed}); load average {_load()}")
    print(f"{'':34}{'wall s':>8}{'CPU s':>8}{'trades':>9}")
    w3, c3 = loops("3-signal template", THREE_SIGNALS, candles, config)
    wt, ct, _ = timed(lambda: list(run_backtest(THREE_SIGNALS, candles, config).trades))
    print(f"{'  + building every Trade object':34}{wt - w3:8.3f}{ct - c3:8.3f}")
    loops("3-signal, % equity+guards+funding", THREE_SIGNALS_EQUITY, candles, account)
    loops("demo template (ma_cross.json)", DEMO, candles, account)
    for fast, slow in ((10, 30), (50, 200)):
        compare(candles, config, fast, slow)


def _load() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def loops(
    label: str, tpl: Template, candles: Candles, config: BacktestConfig
) -> tuple[float, float]:
    """Time ``tpl`` on the compiled and on the Python loop, print both; (wall, CPU) seconds
    of the compiled run."""
    why = unsupported(Rules(tpl, config.qty_step), config, candles)
    wc, cc, rc = timed(lambda: run_backtest(tpl, candles, config), 5)
    wp, cp, rp = timed(lambda: run_backtest(tpl, candles, config, compiled=False))
    on = "compiled loop" if isinstance(rc.trades, TradeColumns) else f"NOT COMPILED: {why}"
    last = rc.trades[-1].exit_index + 1 if len(rc.trades) else 0
    print(f"{label:34}{wc:8.3f}{cc:8.3f}{len(rc.trades):9,}  {on}, trades until candle {last:,}")
    print(f"{'  the same on the Python loop':34}{wp:8.3f}{cp:8.3f}{len(rp.trades):9,}")
    n = len(candles.close)
    rate = n / cc
    print(
        f"  {n / wc / 1e6:.1f}M candles/s wall, {rate / 1e6:.1f}M CPU (goal >= 10M: "
        f"{'met' if rate >= 10e6 else 'MISSED'}); {cp / cc:.1f}x the Python loop (CPU); "
        f"same results: {rc.to_json() == rp.to_json()}"
    )
    return wc, cc


def compare(candles: Candles, config: BacktestConfig, fast: int, slow: int) -> None:
    tpl = sma_cross(fast, slow)
    ws, cs, rs = timed(lambda: run_backtest(tpl, candles, config), 5)
    wb, cb, their_trades = timed(lambda: backtesting_py(candles, rs.warmup, fast, slow), 1)
    ours = [
        (t.entry_index, float(t.entry_price), t.exit_index, float(t.exit_price))
        for t in rs.trades
        if t.exit_reason != "end_of_data"
    ]
    theirs = [
        (int(r.EntryBar), float(r.EntryPrice), int(r.ExitBar), float(r.ExitPrice))
        for r in their_trades.itertuples()
    ]
    print(f"{f'SMA cross {fast}/{slow}, plutarc':34}{ws:8.3f}{cs:8.3f}{len(ours):9,}")
    print(f"{f'SMA cross {fast}/{slow}, backtesting.py':34}{wb:8.3f}{cb:8.3f}{len(theirs):9,}")
    ratio = wb / ws
    print(
        f"  speed-up {ratio:.1f}x wall, {cb / cs:.1f}x CPU (goal >= 50x: "
        f"{'met' if cb / cs >= 50 else 'MISSED'}); same entry/exit bars and prices: "
        f"{ours == theirs}"
    )
    if ours != theirs:
        diff = next(
            (k for k, (a, b) in enumerate(zip(ours, theirs, strict=False)) if a != b),
            min(len(ours), len(theirs)),
        )
        print(f"  first difference at trade {diff}")
    pnl = sum(float(t.pnl) for t in rs.trades if t.exit_reason != "end_of_data")
    print(
        f"  net PnL after fees: plutarc {pnl:,.4f}, backtesting.py "
        f"{float(their_trades.PnL.sum()):,.4f}"
    )


if __name__ == "__main__":
    main()
