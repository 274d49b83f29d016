"""Funding in the compiled loop: ``backtest.funding.funding_cost`` as an exact Wide amount."""

from __future__ import annotations

import numpy as np
from numba import njit

from strategy.backtest.compiled import fixed as fx
from strategy.backtest.funding import INTERVAL_MS


@njit(cache=True)
def charge(open_, open_time, entry_ms, exit_ms, side, qty, q_e, rate, rate_e, scales):
    """(hi, lo, exponent, ok) of ``Decimal(0) + side * qty * open * rate`` over the funding
    times t in [entry_ms, exit_ms), open the open of the candle holding t; ``qty`` counts
    10**-q_scale and ``rate`` 10**-a_scale units; ``scales``: (price scale, money scale =
    price + q + a scale)."""
    price_scale, money_scale = scales
    if abs(qty) >= fx.BASE // abs(rate):
        return 0, 0, 0, False
    per_unit = side * qty * rate
    h, lo, e = 0, 0, 0
    t = -(-entry_ms // INTERVAL_MS) * INTERVAL_MS
    while t < exit_ms:
        j = max(np.searchsorted(open_time, t, side="right") - 1, 0)
        c, p_e, ok = fx.dec12(open_[j])
        p, ok_s = fx.scale_to(c, p_e, price_scale)
        t_h, t_l = fx.mul(per_unit, p)
        term_e = q_e + p_e + rate_e
        if not (ok and ok_s and fx.fits(t_h, money_scale + term_e)):  # each product exact
            return 0, 0, 0, False
        h, lo = fx.add(h, lo, t_h, t_l)
        e = min(e, term_e)
        t += INTERVAL_MS
    return h, lo, e, fx.fits(h, money_scale + e)
