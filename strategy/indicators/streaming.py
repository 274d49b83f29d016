"""The streaming-indicator protocol: O(1) state updated once per closed candle.

Every stream class is plain Python with ``__slots__``.  Called from Python, that beat a
numba ``jitclass``, whose every method call pays for boxing the arguments and the result:
an EMA update measured 0.30 us as a slotted class against 1.06 us as a jitclass.  The one
exception is CCI, whose O(period) mean deviation runs in a numba function the stream
calls once per candle (bench/indicators.py prints every stream's cost).  Each stream
performs exactly the same floating-point operations, in the same order, as its batch
kernel (shared helpers are one Python source compiled again by numba; FMA is ``math.fma``
on the Python side), so both forms give bit-identical outputs.
"""

from __future__ import annotations

from typing import Protocol

NAN = float("nan")
# TA-Lib's TA_EPSILON: a difference below ZERO_EPSILON * (|a| + |b|) counts as zero.
ZERO_EPSILON = 1e-14


class Stream(Protocol):
    """Fresh state from ``IndicatorSpec.stream(params)``; feed it closed candles in order."""

    def update(
        self,
        open: float,
        high: float,
        low: float,
        close: float,
        volume: float,
        open_time_ms: int = -1,
    ) -> tuple[float, ...]:
        """Consume one closed candle; return the outputs (NaN while warming up).

        ``open_time_ms`` is only read by indicators that need the clock (VWAP with a daily
        reset); callers should always pass it.
        """
        ...
