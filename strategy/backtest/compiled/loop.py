"""The compiled trade loop: entries, the exit kernel, fills, fees, PnL, MFE/MAE in numba.

It is ``engine._loop`` and ``engine._Fills.trade`` with no Python per trade: the same walk
(from each exit to the next candle whose frame allows an entry), the same entry decision
(guards and sizing on the account: ``compiled.entry``, ``compiled.account``), the same fill
rules (``level_fills``: market fills with slippage against the trader, taker fee, level exits
known at the close of their candle), the same exit kernel (``kernel.scan_new``) and funding
(``compiled.funding``).  Money is exact: prices are the 12-digit decimals of
``strategy.decision.price`` (``fixed.dec12``), amounts are Wide integers counting
``10**-scale`` units of the quote currency, and each amount's ``Decimal`` exponent is kept
beside it so the edge rebuilds the very ``Decimal`` the Python path would have made.

One row of ``rows`` per trade (``C_*`` columns).  ``state`` carries the walk between calls,
so the caller can run it in slices and report progress (``S_*`` indices).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from strategy.backtest.compiled import account as ac
from strategy.backtest.compiled import entry, funding
from strategy.backtest.compiled import fixed as fx
from strategy.backtest.compiled import params as pm
from strategy.components.exits.kernel import scan_new

# fill prices count 10**-price_scale units, with their Decimal exponent beside them
(C_ENTRY, C_EXIT, C_SIDE, C_REASON, C_EXIT_MS, C_EP, C_EP_E, C_XP, C_XP_E) = range(9)
# Wide amounts at the money scale: (hi, lo, Decimal exponent) each
C_ENTRY_FEE, C_FEES, C_PNL, C_MFE, C_MAE = 9, 12, 15, 18, 21
C_QTY, C_QTY_E = 24, 25  # the quantity (10**-q_scale units) and its exponent
N_COLS = 26
# state: the next candle that may decide an entry, trades so far, outcome (RUNNING, DONE,
# INEXACT: a value this loop cannot represent exactly, or ASK: the entry decision at S_FREE
# is Python's, see ``compiled.ask``) and that decision once made (kind NO_ANSWER: none)
S_FREE, S_COUNT, S_OUTCOME, S_ANSWER, S_ANSWER_A, S_ANSWER_B, N_STATE = range(7)
RUNNING, DONE, INEXACT, ASK = 0, 1, 2, 3
NO_ANSWER = -1


@njit(cache=True)
def _wide(rows, t, col, h, lo, e):
    rows[t, col] = h
    rows[t, col + 1] = lo
    rows[t, col + 2] = e


@njit(cache=True)
def _fill_price(x, factor, factor_e, price_scale):
    """A market fill at raw price ``x`` moved by a slippage factor (1 + sign * slip):
    (count of 10**-price_scale units, Decimal coefficient and exponent, ok)."""
    c, e, ok = fx.dec12(x)
    if factor != 1 or factor_e != 0:
        if not ok or abs(c) >= fx.BASE // factor:
            return 0, 0, 0, False
        c, e = c * factor, e + factor_e
    s, ok_s = fx.scale_to(c, e, price_scale)
    return s, c, e, ok and ok_s


@njit(cache=True)
def _excursion(qty10, side, a, b, q_e, e_a, e_b):
    """max(0, side * qty * (a - b)) as (hi, lo, exponent): Decimal's max keeps its 0."""
    h, lo = fx.mul(side * qty10, a - b)
    if fx.sign(h, lo) <= 0:
        return 0, 0, 0
    return h, lo, q_e + min(e_a, e_b)


@njit(cache=True)
def run(
    rows,
    state,
    acct,
    limit,
    long_entry,
    short_entry,
    open_,
    high,
    low,
    close,
    open_time,
    decision_ms,
    long_signal,
    short_signal,
    atr,
    cfg,
    tf,
    level_reason,
    end_reason,
    ints,
    floats,
):
    """Walk the candles from ``state[S_FREE]`` (at least the warm-up's last) to ``limit``
    (exclusive; the last candle decides nothing); see the module docstring.  ``acct``: the
    account (``compiled.account``); ``ints``/``floats``: ``compiled.params``."""
    n = len(close)
    fee, fee_e, rate, rate_e = ints[pm.P_FEE], ints[pm.P_FEE_E], ints[pm.P_RATE], ints[pm.P_RATE_E]
    a_pow, price_scale, ms = ints[pm.P_A_POW], ints[pm.P_PRICE_SCALE], ints[pm.P_MONEY_SCALE]
    max_qty = min(fx.BASE // fee, fx.BASE // a_pow)  # qty x fee and qty x 10**a_scale fit
    reads_equity = ints[pm.P_READS_EQUITY] != 0
    fixed_only = not reads_equity and ints[pm.P_COOLDOWN] == 0
    i, t = state[S_FREE], state[S_COUNT]
    stop = min(limit, n - 1)
    while i < stop:
        if not (long_entry[i] or short_entry[i]):
            i += 1
            continue
        now = open_time[i] + tf
        side = 1 if long_entry[i] else -1
        if reads_equity:
            ac.roll_day(acct, now)
        if state[S_ANSWER] != NO_ANSWER:
            kind, a, q_e = state[S_ANSWER], state[S_ANSWER_A], state[S_ANSWER_B]
            state[S_ANSWER] = NO_ANSWER
        elif fixed_only:  # nothing to decide: no guard, a fixed quantity
            kind, a, q_e = entry.ENTER, ints[pm.P_QTY], ints[pm.P_QTY_E]
        else:
            kind, a, q_e = entry.decide(acct, now, tf, side, close[i], atr[i], cfg, ints, floats)
        if kind == entry.ASK:
            state[S_FREE], state[S_COUNT], state[S_OUTCOME] = i, t, ASK
            return
        if kind == entry.BLOCKED:
            i = n - 1 if a == entry.FOREVER else max(i + 1, np.searchsorted(decision_ms, a))
            continue
        if kind == entry.SIZE_ZERO:
            i += 1
            continue
        qty = a
        if side > 0:
            in_c, in_e = ints[pm.P_UP_C], ints[pm.P_UP_E]
            out_c, out_e, opposite = ints[pm.P_DOWN_C], ints[pm.P_DOWN_E], short_signal
        else:
            in_c, in_e = ints[pm.P_DOWN_C], ints[pm.P_DOWN_E]
            out_c, out_e, opposite = ints[pm.P_UP_C], ints[pm.P_UP_E], long_signal
        ep, ep_c, ep_e, ok = _fill_price(open_[i + 1], in_c, in_e, price_scale)
        ep_f, ok_f = fx.to_float(ep_c, ep_e)  # float(entry_price), as the kernel gets it
        if not (ok and ok_f and qty < max_qty):
            state[S_OUTCOME] = INEXACT
            return
        qty_fee, qty10 = qty * fee, qty * a_pow
        index, reason, fill, best, worst = scan_new(
            open_, high, low, opposite, i + 1, cfg, float(side), ep_f, atr[i]
        )
        if index < 0 or np.isnan(fill):
            e, reason, raw, exit_ms = n - 1, end_reason, close[n - 1], open_time[n - 1] + tf
        else:
            e, raw = index, fill
            exit_ms = open_time[e] + (tf if level_reason[reason] else 0)
        xp, _, xp_e, ok = _fill_price(raw, out_c, out_e, price_scale)
        if side > 0:
            best, worst = raw if raw > best else best, raw if raw < worst else worst
        else:
            best, worst = raw if raw < best else best, raw if raw > worst else worst
        bp, _, bp_e, ok_b = _fill_price(best, 1, 0, price_scale)
        wp, _, wp_e, ok_w = _fill_price(worst, 1, 0, price_scale)
        if not (ok and ok_b and ok_w):
            state[S_OUTCOME] = INEXACT
            return
        ef_h, ef_l = fx.mul(qty_fee, ep)
        xf_h, xf_l = fx.mul(qty_fee, xp)
        fe_h, fe_l = fx.add(ef_h, ef_l, xf_h, xf_l)
        ef_e = q_e + ep_e + fee_e
        fees_e = min(ef_e, q_e + xp_e + fee_e)
        if rate != 0:
            f_h, f_l, f_e, ok = funding.charge(
                open_, open_time, open_time[i + 1], exit_ms, side, qty, q_e, rate, rate_e,
                (price_scale, ms),
            )  # fmt: skip
            fe_h, fe_l = fx.add(fe_h, fe_l, f_h, f_l)
            fees_e = min(fees_e, f_e)
            # a zero fee total and a short's zero gain: Decimal's PnL would be -0
            if not ok or (fx.sign(fe_h, fe_l) == 0 and side < 0 and xp == ep):
                state[S_OUTCOME] = INEXACT
                return
        g_h, g_l = fx.mul(side * qty10, xp - ep)
        pnl_h, pnl_l = fx.sub(g_h, g_l, fe_h, fe_l)
        g_e = q_e + min(xp_e, ep_e)
        pnl_e = min(g_e, fees_e)
        if not (
            fx.fits(pnl_h, ms + pnl_e) and fx.fits(fe_h, ms + fees_e) and fx.fits(g_h, ms + g_e)
        ):
            state[S_OUTCOME] = INEXACT
            return
        rows[t, C_ENTRY] = i + 1
        rows[t, C_EXIT] = e
        rows[t, C_SIDE] = side
        rows[t, C_REASON] = reason
        rows[t, C_EXIT_MS] = exit_ms
        rows[t, C_EP] = ep
        rows[t, C_EP_E] = ep_e
        rows[t, C_XP] = xp
        rows[t, C_XP_E] = xp_e
        rows[t, C_QTY] = qty
        rows[t, C_QTY_E] = q_e
        _wide(rows, t, C_ENTRY_FEE, ef_h, ef_l, ef_e)
        _wide(rows, t, C_FEES, fe_h, fe_l, fees_e)
        _wide(rows, t, C_PNL, pnl_h, pnl_l, pnl_e)
        mfe_h, mfe_l, mfe_e = _excursion(qty10, side, bp, ep, q_e, bp_e, ep_e)
        mae_h, mae_l, mae_e = _excursion(qty10, side, ep, wp, q_e, ep_e, wp_e)
        if reads_equity:
            exact = ac.close(acct, pnl_h, pnl_l, pnl_e, exit_ms, ms)
        else:  # only the cooldown's last losing exit is read
            exact = ac.note_loss(acct, pnl_h, pnl_l, exit_ms)
        if not (fx.fits(mfe_h, ms + mfe_e) and fx.fits(mae_h, ms + mae_e) and exact):
            state[S_OUTCOME] = INEXACT
            return
        _wide(rows, t, C_MFE, mfe_h, mfe_l, mfe_e)
        _wide(rows, t, C_MAE, mae_h, mae_l, mae_e)
        t += 1
        i = e + 1
    state[S_FREE], state[S_COUNT] = i, t
    state[S_OUTCOME] = DONE if i >= n - 1 else RUNNING
