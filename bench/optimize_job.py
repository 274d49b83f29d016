"""The dashboard's parameter search (backend/optimize/follower.py: a child process followed by
the API's event loop) against its baselines measured in the same run:

1. wall time: the followed search (the second one: the first starts the fork server, shown
   apart) vs the same `child.search` called directly in this process (what the child
   process, the pipe and the follower cost);
2. the API's event loop while a search runs: how late a 10 ms `asyncio.sleep` wakes up
   (p50/p99/max), for the followed search, for the baseline of the same search in a thread
   of the API process (the GIL shared with the loop), and for an idle loop.

Both sides use one worker process (`PLUTARC_OPTIMIZE_WORKERS=1`), so the comparison is about
where the search runs, not how many cores it gets. The follower's mutations are replaced by a
function that records the progress reports (no database here).

    .venv/bin/python bench/optimize_job.py [--candles 100000] [--points 200]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ["PLUTARC_OPTIMIZE_WORKERS"] = "1"  # read by the child process

import looplag

from backend.optimize import child, follower
from strategy.backtest.synthetic import random_walk

TEMPLATE = {
    "schema_version": 1, "name": "bench", "symbol": "BTCUSDT", "timeframe": "1m",
    "signals": [{"type": "ma_cross", "params": {"fast": 5, "slow": 30, "mode": "trend"}}],
    "exits": [{"type": "opposite_signal"}],
    "combination": {"mode": "weighted_sum", "threshold": 1.0},
    "risk": {"sizing": {"mode": "fixed_quantity", "value": 0.01}},
}


async def _probed(work: Any) -> tuple[float, list[float], Any]:
    stop = asyncio.Event()
    probe = asyncio.create_task(looplag.lags(stop))
    started = time.perf_counter()
    result = await work
    took = time.perf_counter() - started
    stop.set()
    return took, await probe, result


async def _followed(spec: dict[str, Any], candles: Any) -> dict[str, Any]:
    ended: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
    reports = []

    async def mutation(path: str, args: dict[str, Any] | None) -> Any:
        assert args is not None
        if path == "optimize:report":
            reports.append(args["done"])
            return "running"
        ended.set_result({**args, "reports": reports})
        return True

    await follower.start(1, TEMPLATE, spec, candles, mutation)
    return await ended


def _line(name: str, took: float | None, lags: list[float]) -> str:
    took_text = "" if took is None else f"{took:6.2f} s  "
    return (f"{name:<34} {took_text}loop lag p50 {statistics.median(lags):6.2f} ms  "
            f"p99 {looplag.pct(lags, 0.99):7.2f} ms  max {max(lags):7.2f} ms  ({len(lags)} probes)")


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--candles", type=int, default=100_000)
    parser.add_argument("--points", type=int, default=200, help="fast values (slow: 3)")
    args = parser.parse_args()
    candles = random_walk(args.candles, seed=3)
    n = args.candles
    spec = {"params": [f"signals.0.fast=2:{args.points + 1}:1", "signals.0.slow=40,60,80"],
            "kind": "grid", "samples": None, "seed": 0, "kpi": "net_pnl", "top": 5,
            "folds": [[0, n * 7 // 10, n * 7 // 10, n]]}
    points = args.points * 3
    print(f"{points} points x 1 fold over {n:,} candles, one worker process each side; "
          f"load average {os.getloadavg()[0]:.2f}")
    child.search(TEMPLATE, spec, candles, workers=1)  # warm: numba's kernels loaded here

    took_direct, lags_thread, direct = await _probed(
        asyncio.to_thread(child.search, TEMPLATE, spec, candles, None, 1))
    took_cold, _, _ = await _probed(_followed(spec, candles))  # starts the fork server
    took_child, lags_child, followed = await _probed(_followed(spec, candles))
    _, lags_idle, _ = await _probed(asyncio.sleep(max(2.0, took_child / 2)))
    assert followed["status"] == "done", followed
    assert followed["result"] == direct, "the followed search differs from the direct one"
    print(_line("baseline: search in a thread", took_direct, lags_thread))
    print(_line("followed search (child process)", took_child, lags_child))
    print(_line("idle loop", None, lags_idle))
    print(f"first followed search (starts the fork server, warms its kernels): {took_cold:.2f} s")
    p99_ratio = looplag.pct(lags_thread, 0.99) / max(looplag.pct(lags_child, 0.99), 1e-3)
    print(f"time ratio followed / direct: {took_child / took_direct:.2f}; loop p99 ratio "
          f"thread / followed: {p99_ratio:.1f}"
          f"; progress reports: {len(followed['reports'])} (last {followed['reports'][-1:]})")


if __name__ == "__main__":
    asyncio.run(main())
