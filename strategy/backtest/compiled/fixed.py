"""Exact decimal money inside numba: 12-significant-digit prices and 128-bit integers.

The Python backtester works in ``Decimal``: every price is ``Decimal(f"{x:.12g}")`` of a
float (``strategy.decision.price``) and money is products and sums of those.  This module
gives the compiled loop the same numbers without leaving numba:

* :func:`dec12` — the coefficient and exponent of ``Decimal(f"{x:.12g}")``, computed from
  the exact value of ``x * 10**k`` (Dekker's error-free product) with the same round-half-even
  rule Python's formatting uses;
* ``Wide`` values — exact integers as two int64 limbs in base 10**18 (``value = hi * 10**18 +
  lo``, invariant ``0 <= lo < 10**18``), enough for money at a common scale: Decimal's
  28-digit context never rounds an amount whose coefficient (value / 10**(scale + exponent))
  is under 10**28, which :func:`fits` checks (values stay under 10**36);
* :func:`to_float` — the correctly rounded float of a decimal, when a single float division
  gives it (coefficient < 2**53, |exponent| <= 22); callers fall back otherwise.

Every function that can meet a value it cannot represent returns ``ok = False``; the loop then
stops and the backtest reruns on the Python path (see ``compiled/__init__``).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

BASE = 10**18
POW10F = np.array([10.0**k for k in range(23)])  # exact doubles up to 1e22
POW10I = np.array([10**k for k in range(19)], dtype=np.int64)
_SPLIT = 134217729.0  # 2**27 + 1 (Veltkamp)
_EXACT_INT = 2.0**53


@njit(cache=True)
def _two_prod(a: float, b: float) -> tuple[float, float]:
    """(p, e) with p = fl(a*b) and p + e == a*b exactly (Dekker)."""
    p = a * b
    t = _SPLIT * a
    ah = t - (t - a)
    al = a - ah
    t = _SPLIT * b
    bh = t - (t - b)
    bl = b - bh
    return p, ((ah * bh - p) + ah * bl + al * bh) + al * bl


@njit(cache=True)
def dec12(x: float) -> tuple[int, int, bool]:
    """(coefficient, exponent, ok) of ``Decimal(f"{x:.12g}")`` for 1e-10 <= x < 1e11."""
    if not (1e-10 <= x < 1e11):
        return 0, 0, False
    k = 11 - math.floor(math.log10(x))
    hi, lo = _two_prod(x, POW10F[k])
    if hi >= 1e12:
        k -= 1
        hi, lo = _two_prod(x, POW10F[k])
    elif hi < 1e11:
        k += 1
        hi, lo = _two_prod(x, POW10F[k])
    if k < 0 or k > 22:
        return 0, 0, False
    m = math.floor(hi)
    d = (hi - m) - 0.5  # exact: hi and m share a binade, |lo| < ulp(hi) / 2
    c = int(m)
    if d > 0.0 or (d == 0.0 and (lo > 0.0 or (lo == 0.0 and c % 2 == 1))):
        c += 1
    e = -k
    for step in (8, 4, 2, 1):  # %g drops trailing zeros (at most 12: each step once)
        if e + step <= 0 and c % POW10I[step] == 0:
            c //= POW10I[step]
            e += step
    return c, e, True


@njit(cache=True)
def to_float(c: int, e: int) -> tuple[float, bool]:
    """(float(Decimal coefficient c, exponent e), ok): one correctly rounded operation."""
    if abs(c) >= _EXACT_INT:
        return 0.0, False
    if e >= 0:
        v = float(c) * POW10F[min(e, 22)]
        return v, e <= 22 and abs(v) < _EXACT_INT
    if e < -22:
        return 0.0, False
    return float(c) / POW10F[-e], True


@njit(cache=True)
def scale_to(c: int, e: int, s: int) -> tuple[int, bool]:
    """``c * 10**e`` as an integer count of 10**-s units (ok False: not exact or too big)."""
    shift = s + e
    if shift < 0 or shift > 18:
        return 0, False
    p = POW10I[shift]
    if abs(c) >= (BASE // p):
        return 0, False
    return c * p, True


# ---- Wide: exact integers (hi, lo) in base 10**18 ------------------------------------------


@njit(cache=True)
def neg(h: int, lo: int) -> tuple[int, int]:
    if lo == 0:
        return -h, 0
    return -h - 1, BASE - lo


@njit(cache=True)
def add(h1: int, l1: int, h2: int, l2: int) -> tuple[int, int]:
    h, lo = h1 + h2, l1 + l2
    if lo >= BASE:
        return h + 1, lo - BASE
    return h, lo


@njit(cache=True)
def sub(h1: int, l1: int, h2: int, l2: int) -> tuple[int, int]:
    h2, l2 = neg(h2, l2)
    return add(h1, l1, h2, l2)


@njit(cache=True)
def mul(a: int, b: int) -> tuple[int, int]:
    """The exact product of two int64 with |a|, |b| < 10**18."""
    negative = (a < 0) != (b < 0)
    a, b = abs(a), abs(b)
    g = 1_000_000_000
    a1, a0 = a // g, a % g
    b1, b0 = b // g, b % g
    mid = a1 * b0 + a0 * b1
    lo = (mid % g) * g + a0 * b0
    h = a1 * b1 + mid // g + lo // BASE
    lo %= BASE
    return neg(h, lo) if negative else (h, lo)


@njit(cache=True)
def sign(h: int, lo: int) -> int:
    if h < 0:
        return -1
    return 1 if (h > 0 or lo > 0) else 0


@njit(cache=True)
def fits(h: int, digits: int) -> bool:
    """|value| < 10**(28 + digits), conservatively, and < 10**36: for an amount counting
    10**-scale units with Decimal exponent e and ``digits = scale + e`` (>= 0), its
    coefficient has at most 28 digits — Decimal's default context holds it unrounded."""
    limit = POW10I[min(10 + digits, 18)]
    return -limit < h < limit


@njit(cache=True)
def wide_float(h: int, lo: int, s: int, e: int) -> tuple[float, bool]:
    """(float of the Decimal with exponent ``e`` worth value * 10**-s, ok): correctly rounded
    — one float division when the coefficient allows (``to_float``), else a double-double
    quotient, refused (ok False) only within ~1e-12 ulp of a rounding tie."""
    if -9 <= h <= 8 and 0 <= s + e <= 18:  # the value fits an int64
        v, ok = to_float((h * BASE + lo) // POW10I[s + e], e)
        if ok:
            return v, True
    return _dd_float(h, lo, s)


@njit(cache=True)
def _two_sum(a: float, b: float) -> tuple[float, float]:
    """(s, e) with s = fl(a + b) and s + e == a + b exactly (Knuth)."""
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


@njit(cache=True)
def _dd_div(xh: float, xl: float, d: float) -> tuple[float, float]:
    """(xh + xl) / d as a double-double (~2**-104 relative); d an exact power of ten."""
    q1 = xh / d
    p, pe = _two_prod(q1, d)
    q2 = (((xh - p) - pe) + xl) / d  # xh - p is exact: p is within an ulp of xh
    return _two_sum(q1, q2)


@njit(cache=True)
def _dd_float(h: int, lo: int, s: int) -> tuple[float, bool]:
    """The correctly rounded float of (h * 10**18 + lo) / 10**s for |value| < 2**100."""
    if abs(h) >= 2**53:
        return 0.0, False
    p, pe = _two_prod(float(h), 1e18)  # exact: h has at most 53 bits
    lh = float(lo)
    ll = float(lo - int(lh))  # exact: lo and its float differ by at most 64
    xh, xl = _two_sum(p, lh)
    xh, xl = _two_sum(xh, xl + (pe + ll))
    while s > 22:
        xh, xl = _dd_div(xh, xl, POW10F[22])
        s -= 22
    qh, ql = _dd_div(xh, xl, POW10F[s])
    # qh is (qh + ql) rounded; the true quotient, ~1e-31 away, rounds the same unless
    # ql is that close to half the gap to qh's neighbour on its side
    if qh == 0.0:
        return 0.0, ql == 0.0
    m, ex = math.frexp(qh)
    half_gap = math.ldexp(1.0, ex - 54)
    if abs(m) == 0.5 and (ql < 0) == (qh > 0):  # towards zero from a power of two
        half_gap /= 2
    return qh, half_gap - abs(ql) > 1e-12 * half_gap


@njit(cache=True)
def wide_value(h: int, lo: int) -> float:
    """The float of a Wide value, within 2 ulps (one rounding while it fits an int64)."""
    if -9 <= h <= 8:
        return float(h * BASE + lo)
    return float(h) * 1e18 + float(lo)


def to_int(h: int, lo: int) -> int:
    """The Python int of a Wide value (at the edge)."""
    return int(h) * BASE + int(lo)
