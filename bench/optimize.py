"""Parameter-search benchmark: a grid of SMA-cross parameters over a year of 1m candles.

Prints, in one run:
1. the wall time of ``strategy.optimize.search`` over the grid (every core, indicator series
   shared between points), and points per second;
2. the baseline: the same points run one after another as plain ``run_backtest`` calls (no
   pool, no shared indicators) — all of them with ``--baseline-sample 0``, else a sample of
   evenly spaced points whose time is scaled to the whole grid (said in the output);
3. the ratio baseline / search, and a check that the sampled points' KPIs are identical.

Default: 525,600 candles, 40 x 25 = 1,000 points (fast 2..41, slow 50..290 step 10), a few
minutes on 2 cores.  Run: .venv/bin/python bench/optimize.py [--candles N] [--fast K]
[--slow K] [--baseline-sample S] [--workers W]
"""

from __future__ import annotations

import argparse
import os
import time
from decimal import Decimal

from strategy.backtest import BacktestConfig, run_backtest
from strategy.backtest.synthetic import random_walk
from strategy.indicators import Candles
from strategy.optimize import grid, parse_specs, search
from strategy.optimize.params import with_values
from strategy.template import validate_template

TEMPLATE = {
    "schema_version": 1,
    "name": "bench grid",
    "symbol": "BTCUSDT",
    "timeframe": "1m",
    "signals": [{"type": "ma_cross", "params": {"fast": 10, "slow": 100, "mode": "trend"}}],
    "exits": [{"type": "opposite_signal"}],
    "combination": {"mode": "weighted_sum", "threshold": 1.0},
    "risk": {"sizing": {"mode": "fixed_quantity", "value": 1}},
}
FEE = Decimal("0.00055")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--candles", type=int, default=525_600)
    parser.add_argument("--fast", type=int, default=40, help="fast periods 2, 3, ...")
    parser.add_argument("--slow", type=int, default=25, help="slow periods 50, 60, ...")
    parser.add_argument("--baseline-sample", type=int, default=40,
                        help="points timed one by one (0: every point)")
    parser.add_argument("--workers", type=int, default=os.cpu_count())
    args = parser.parse_args()

    candles = random_walk(args.candles, seed=42, trend=0.05)
    config = BacktestConfig(initial_equity=Decimal(1_000_000), taker_fee=FEE)
    specs = parse_specs(TEMPLATE, [f"signals.0.fast=2:{args.fast + 1}:1",
                                   f"signals.0.slow=50:{50 + 10 * (args.slow - 1)}:10"])
    points = list(grid(specs))
    warm = Candles(*(c[:2000] for c in candles))
    run_backtest(validate_template(TEMPLATE), warm, config)  # JIT warm-up

    t0 = time.perf_counter()
    found = search(TEMPLATE, specs, points, candles, config, kpi="net_pnl", workers=args.workers)
    searched = time.perf_counter() - t0

    sample = points if args.baseline_sample <= 0 else points[
        :: max(1, len(points) // args.baseline_sample)]
    by_values = {t.values: t for t in found.ranked}
    identical = True
    t0 = time.perf_counter()
    for values in sample:
        alone = run_backtest(validate_template(with_values(TEMPLATE, specs, values)), candles, config)
        identical &= alone.kpis == by_values[values].kpis
    one_by_one = (time.perf_counter() - t0) / len(sample) * len(points)

    print(f"candles: {args.candles:,} (1m random walk, seed 42); grid: {len(points):,} points "
          f"(fast x slow SMA cross); workers: {args.workers}")
    print(f"search (pool, shared indicators): {searched:8.1f} s  "
          f"{len(points) / searched:7.1f} points/s")
    label = "every point" if len(sample) == len(points) else (
        f"{len(sample)} points timed, scaled to {len(points):,}")
    print(f"one backtest at a time ({label}): {one_by_one:8.1f} s  "
          f"{len(points) / one_by_one:7.1f} points/s")
    print(f"speed-up: {one_by_one / searched:.2f}x; sampled KPIs identical: {identical}")
    best = found.best
    print(f"best by net_pnl: fast={best.values[0]} slow={best.values[1]} "
          f"net {best.kpis.net_pnl:,.2f} ({best.kpis.trade_count:,} trades) of "
          f"{found.trials:,} trials")


if __name__ == "__main__":
    main()
