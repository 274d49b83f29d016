"""Sliding-window sums with no rounding drift: a double-double accumulator (hi, lo).

A running ``total += new - old`` picks up one rounding per candle, so after a long series
its value depends on how many candles it has seen and where it started: two runs over the
same window (a backtest from the start of the file, a bot warmed on recent history) then
disagree in the last bits, and a decision on an exact tie (SMA(10) == SMA(30), a close on a
zero-width band) goes either way.  Here each addition is error-free (Knuth's TwoSum) and
the error is carried in ``lo``; for prices within a factor 2^40 of each other the window's
exact sum fits in the pair, so ``hi`` is always the correctly rounded sum of the window —
the same number whatever came before it.

The kernels' copy is this source compiled by numba (``dd_add``); streams call the Python
functions, so both forms stay bit-identical.
"""

from __future__ import annotations

import math

from numba import njit

from strategy.indicators._fma import fma


def dd_add_py(hi: float, lo: float, x: float) -> tuple[float, float]:
    """``(hi, lo) + x`` renormalised: ``hi`` is the rounded total, ``lo`` what it left out."""
    s = hi + x
    bb = s - hi
    err = (hi - (s - bb)) + (x - bb)
    e = err + lo
    new_hi = s + e
    return new_hi, e - (new_hi - s)


dd_add = njit(cache=True, inline="always")(dd_add_py)


def dd_add_product_py(hi: float, lo: float, a: float, b: float) -> tuple[float, float]:
    """``(hi, lo) + a * b``, the product made exact by an FMA (its rounding error added too)."""
    p = a * b
    hi, lo = dd_add_py(hi, lo, p)
    return dd_add_py(hi, lo, math.fma(a, b, -p))


@njit(cache=True, inline="always")
def dd_add_product(hi, lo, a, b):
    """Numba twin of :func:`dd_add_product_py` (the same operations, LLVM's FMA)."""
    p = a * b
    hi, lo = dd_add(hi, lo, p)
    return dd_add(hi, lo, fma(a, b, -p))
