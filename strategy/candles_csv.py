"""Read and write candles in the shared CSV format: ``open_time_ms,open,high,low,close,volume``.

One header row, then one closed candle per line, oldest first, times in UTC milliseconds.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from strategy.indicators import Candles

HEADER = "open_time_ms,open,high,low,close,volume"


def read_candles(path: Path) -> Candles:
    """Load a candle CSV; ValueError on a wrong header, ragged rows or unordered times."""
    path = Path(path)
    with path.open() as f:
        header = f.readline().strip()
    if header != HEADER:
        raise ValueError(f"{path}: expected header {HEADER!r}, got {header!r}")
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "loadtxt: input contained no data")
        data = np.loadtxt(path, delimiter=",", skiprows=1, dtype=np.float64, ndmin=2)
    if data.size and data.shape[1] != 6:
        raise ValueError(f"{path}: expected 6 columns, got {data.shape[1]}")
    data = data.reshape(-1, 6)
    times = data[:, 0].astype(np.int64)
    if np.any(np.diff(times) <= 0):
        raise ValueError(f"{path}: open_time_ms must be strictly increasing")
    return Candles.of(times, *(data[:, k] for k in range(1, 6)))


def write_candles(path: Path, candles: Candles) -> None:
    """Write candles with the shared header (prices with up to 17 significant digits)."""
    rows = np.column_stack([c.astype(np.float64) for c in candles])
    fmt = ["%d"] + ["%.17g"] * 5
    np.savetxt(Path(path), rows, delimiter=",", header=HEADER, comments="", fmt=fmt)
