"""The dashboard's backtest job (frontend/backtest_job.py) against its baseline measured in
the same run: `run_backtest` called directly on the same template and candles.

1. job time / direct time: what the worker thread, the progress steps and the JSON result
   cost on top of the backtest itself;
2. the event loop while the job runs: how late a 10 ms `asyncio.sleep` wakes up (p50/p99),
   i.e. how long the dashboard's other tabs wait; baseline: the same probe on an idle loop.

    .venv/bin/python bench/dashboard_backtest.py [--candles 200000] [--runs 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import looplag

from frontend import backtest_job
from strategy.backtest import run_backtest
from strategy.backtest.synthetic import random_walk
from strategy.template import validate_template

TEMPLATE = Path(__file__).resolve().parents[1] / "examples" / "templates" / "ma_cross.json"


async def _job(template: dict, candles) -> tuple[float, list[float]]:
    stop = asyncio.Event()
    probe = asyncio.create_task(looplag.lags(stop))
    started = time.perf_counter()
    await backtest_job.Job().run(template, candles)
    took = time.perf_counter() - started
    stop.set()
    return took, await probe


async def _idle(seconds: float) -> list[float]:
    stop = asyncio.Event()
    probe = asyncio.create_task(looplag.lags(stop))
    await asyncio.sleep(seconds)
    stop.set()
    return await probe


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candles", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    template = json.loads(TEMPLATE.read_text())
    candles = random_walk(args.candles, seed=1, trend=0.2)
    tpl = validate_template(template)
    run_backtest(tpl, candles)  # warm numba's kernels
    direct, job, lags = [], [], []
    for _ in range(args.runs):
        started = time.perf_counter()
        run_backtest(tpl, candles)
        direct.append(time.perf_counter() - started)
        took, lag = asyncio.run(_job(template, candles))
        job.append(took)
        lags += lag
    idle = asyncio.run(_idle(statistics.median(direct)))
    d, j = statistics.median(direct), statistics.median(job)
    print(f"{args.candles:,} candles, {args.runs} runs (medians)")
    print(f"direct run_backtest (baseline): {d * 1000:8.1f} ms")
    print(f"dashboard job:                  {j * 1000:8.1f} ms   x{j / d:.2f}")
    pct = looplag.pct
    print(f"loop lag, idle (baseline):  p50 {pct(idle, 0.5):6.2f} ms  p99 {pct(idle, 0.99):6.2f} ms")
    print(f"loop lag, during the job:   p50 {pct(lags, 0.5):6.2f} ms  p99 {pct(lags, 0.99):6.2f} ms"
          f"   (p99 x{pct(lags, 0.99) / max(pct(idle, 0.99), 0.01):.1f})")


if __name__ == "__main__":
    main()
