"""The compiled loop's account: ``backtest.account.Account`` as exact integers in numba.

One int64 array (``A_*`` indices): closed-trade equity, its peak and today's (UTC) realized
PnL as Wide amounts at the money scale, each with the exponent its ``Decimal`` would have;
the UTC day of that PnL and the last losing exit (-1: none).  :func:`python_account` gives
the Python ``Account`` with the very same ``Decimal`` values (for ``compiled.ask``).
"""

from __future__ import annotations

from decimal import Decimal

import numpy as np
from numba import njit

from strategy.backtest.account import Account
from strategy.backtest.compiled import fixed as fx
from strategy.kpis import DAY_MS

A_EQUITY, A_PEAK, A_DAY, A_DAY_PNL, A_LOSS_MS, N_ACCOUNT = 0, 3, 6, 7, 10, 11


def new(initial: tuple[int, int, int]) -> np.ndarray:
    """A fresh account holding ``initial`` (hi, lo, exponent): ``Account(initial)``."""
    out = np.zeros(N_ACCOUNT, dtype=np.int64)
    out[A_EQUITY : A_EQUITY + 3] = initial
    out[A_PEAK : A_PEAK + 3] = initial
    out[A_DAY], out[A_LOSS_MS] = -1, -1
    return out


@njit(cache=True, inline="always")
def roll_day(acct, now_ms):
    """A decision at ``now_ms``: a new UTC day starts today's PnL at Decimal(0)."""
    if now_ms // DAY_MS != acct[A_DAY]:
        acct[A_DAY] = now_ms // DAY_MS
        acct[A_DAY_PNL], acct[A_DAY_PNL + 1], acct[A_DAY_PNL + 2] = 0, 0, 0


@njit(cache=True, inline="always")
def _add(acct, at, h, lo, e, money_scale):
    """acct[at] += the amount (h, lo, exponent); False when the sum leaves 28 digits."""
    s_h, s_l = fx.add(acct[at], acct[at + 1], h, lo)
    acct[at], acct[at + 1], acct[at + 2] = s_h, s_l, min(acct[at + 2], e)
    return fx.fits(s_h, money_scale + acct[at + 2])


@njit(cache=True, inline="always")
def close(acct, h, lo, e, exit_ms, money_scale):
    """``Account.close`` of a trade with PnL (h, lo, exponent); False: not exact any more."""
    ok = _add(acct, A_EQUITY, h, lo, e, money_scale)
    d_h, d_l = fx.sub(acct[A_EQUITY], acct[A_EQUITY + 1], acct[A_PEAK], acct[A_PEAK + 1])
    if fx.sign(d_h, d_l) > 0:  # max(peak, equity) keeps the peak on a tie
        acct[A_PEAK : A_PEAK + 3] = acct[A_EQUITY : A_EQUITY + 3]
    roll_day(acct, exit_ms)
    return _add(acct, A_DAY_PNL, h, lo, e, money_scale) and note_loss(acct, h, lo, exit_ms) and ok


@njit(cache=True, inline="always")
def note_loss(acct, h, lo, exit_ms):
    """The last losing exit (a PnL (h, lo) below zero); True."""
    if fx.sign(h, lo) < 0:
        acct[A_LOSS_MS] = exit_ms
    return True


@njit(cache=True, inline="always")
def units(acct, at):
    """The amount at ``acct[at]`` as a float count of 10**-money_scale units (2 ulps off)."""
    return fx.wide_value(acct[at], acct[at + 1])


def _decimal(acct: np.ndarray, at: int, money_scale: int) -> Decimal:
    value = int(acct[at]) * fx.BASE + int(acct[at + 1])
    e = int(acct[at + 2])
    return Decimal(value // 10 ** (money_scale + e)).scaleb(e)


def python_account(acct: np.ndarray, money_scale: int) -> Account:
    """The Python loop's ``Account`` in the state this one is in."""
    account = Account(_decimal(acct, A_EQUITY, money_scale))
    account.peak = _decimal(acct, A_PEAK, money_scale)
    account.day = int(acct[A_DAY])
    account.day_pnl = _decimal(acct, A_DAY_PNL, money_scale)
    account.last_loss_exit_ms = None if acct[A_LOSS_MS] < 0 else int(acct[A_LOSS_MS])
    return account
