"""How late an event loop wakes up: a probe that sleeps 10 ms again and again and records
the lateness of each wake-up (ms) — what every other task on the loop waits — and the
percentile of a list of them. Shared by the benches of work that must not block a loop."""

from __future__ import annotations

import asyncio
import time

PROBE_S = 0.010


async def lags(stop: asyncio.Event) -> list[float]:
    """Lateness of each 10 ms sleep, in ms, until `stop` is set."""
    out = []
    while not stop.is_set():
        started = time.perf_counter()
        await asyncio.sleep(PROBE_S)
        out.append((time.perf_counter() - started - PROBE_S) * 1000)
    return out


def pct(values: list[float], q: float) -> float:
    """The `q` quantile (0..1) of `values`, nearest rank; 0 for none."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0
