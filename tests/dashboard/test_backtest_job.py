"""The dashboard's backtest job: over the same CSV its numbers equal `plutarc backtest`'s
(the real command, run as a process); the CSV is bounded in size and a bad one is refused in
words; a running job reports progress and a cancel ends it early; the exchange's history
turns into the same candles a CSV of it would."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from frontend import backtest_job
from strategy.backtest.synthetic import random_walk
from strategy.candles_csv import write_candles

EXAMPLE = Path(__file__).parents[2] / "examples" / "templates" / "ma_cross.json"
PLUTARC = Path(sys.executable).parent / "plutarc"


def test_the_jobs_numbers_equal_plutarc_backtest_on_the_same_csv(tmp_path: Path) -> None:
    csv, out = tmp_path / "candles.csv", tmp_path / "cli.json"
    write_candles(csv, random_walk(4000, seed=11, trend=0.3))
    done = subprocess.run([str(PLUTARC), "backtest", str(EXAMPLE), "--candles", str(csv),
                           "--json-out", str(out)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    cli = json.loads(out.read_text())
    job = backtest_job.Job()
    ours = asyncio.run(job.run(json.loads(EXAMPLE.read_text()),
                               backtest_job.csv_candles(csv.read_bytes(), "candles.csv")))
    assert cli["kpis"]["trade_count"] > 10
    assert ours == cli  # KPIs, every trade, the equity curve and the configuration
    assert job.progress == 1.0


def test_a_csv_past_the_bound_is_refused_saying_the_limit(monkeypatch: pytest.MonkeyPatch
                                                          ) -> None:
    monkeypatch.setattr(backtest_job, "MAX_CSV_BYTES", 1000)
    with pytest.raises(backtest_job.BacktestError, match=r"big\.csv is 0\.0 MB; the limit"):
        backtest_job.csv_candles(b"x" * 1001, "big.csv")


def test_a_malformed_csv_is_refused_in_words() -> None:
    with pytest.raises(backtest_job.BacktestError, match="the first line must be"):
        backtest_job.csv_candles(b"time,o,h,l,c,v\n1,2,3,4,5,6\n", "bad.csv")
    with pytest.raises(backtest_job.BacktestError, match=r"order\.csv, line 3: open_time_ms"):
        backtest_job.csv_candles(b"open_time_ms,open,high,low,close,volume\n"
                                 b"2,1,1,1,1,1\n1,1,1,1,1,1\n", "order.csv")
    with pytest.raises(backtest_job.BacktestError, match="needs more"):
        backtest_job.csv_candles(b"open_time_ms,open,high,low,close,volume\n1,1,1,1,1,1\n")


def test_a_cancelled_job_stops_early_with_its_progress_reported() -> None:
    template = json.loads(EXAMPLE.read_text())
    candles = random_walk(600_000, seed=5)  # ~1.5 s of backtest: cancelled well before its end
    job = backtest_job.start("tab-1")

    async def run_and_cancel() -> float:
        task = asyncio.create_task(job.run(template, candles))
        while job.progress == 0:
            await asyncio.sleep(0.01)
        seen = job.progress
        assert backtest_job.cancel("tab-1")
        started = time.monotonic()
        with pytest.raises(backtest_job.Cancelled):
            await task
        assert time.monotonic() - started < 5  # one progress step (1 %) is far shorter
        return seen

    assert 0 < asyncio.run(run_and_cancel()) < 1
    assert not backtest_job.cancel("tab-1")  # nothing left running for the tab


def test_history_rows_become_the_candles_a_csv_of_them_would_give(tmp_path: Path) -> None:
    rows = [{"time": 1_700_000_000 + 60 * i, "open": "100.5", "high": "110", "low": "99.25",
             "close": str(100 + i), "volume": "3.5"} for i in range(5)]
    candles = backtest_job.history_candles(rows)
    text = "open_time_ms,open,high,low,close,volume\n" + "".join(
        f"{r['time'] * 1000},{r['open']},{r['high']},{r['low']},{r['close']},{r['volume']}\n"
        for r in rows)
    from_csv = backtest_job.csv_candles(text.encode())
    for ours, theirs in zip(candles, from_csv, strict=True):
        assert np.array_equal(ours, theirs)
