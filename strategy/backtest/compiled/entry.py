"""The compiled loop's entry decision: guards and sizing read the account, certified in floats.

``Rules.entry`` decides in ``Decimal``; :func:`decide` takes the same decision in float
arithmetic with a margin of ``MARGIN`` (relative) around every comparison and every rounding
down to the lot step.  Its floats are a few ulps (~1e-15) off the exact values and Decimal's
28-digit quotients ~1e-27, so outside the margin both sides agree on which side of a limit
an amount is and on the whole number of lots.  Inside it — a drawdown exactly at its limit, a
quantity of exactly a whole number of lots — the answer is ASK: that one decision is taken by
``Rules.entry`` in Python (``compiled.ask``), and the loop goes on with its answer.

Decisions: (ENTER, quantity count, its exponent), (SIZE_ZERO, 0, 0), (BLOCKED, until ms or
FOREVER, 0) and (ASK, 0, 0).
"""

from __future__ import annotations

import math

from numba import njit

from strategy.backtest.compiled import account as ac
from strategy.backtest.compiled import fixed as fx
from strategy.backtest.compiled import params as pm
from strategy.components.exits.kernel import entry_levels
from strategy.kpis import DAY_MS

ENTER, SIZE_ZERO, BLOCKED, ASK = range(4)
FOREVER = -1  # a block that never lifts (the Python loop stops deciding)
MARGIN = 1e-12
_MAX_LOTS = 1e15  # beyond, Decimal's quotient could have no fractional digit left


@njit(cache=True, inline="always")
def _apart(a, b):
    """a and b are far enough apart for the exact values to compare the same way."""
    return abs(a - b) > MARGIN * (abs(a) + abs(b))


@njit(cache=True, inline="always")
def _guards(acct, now, tf, ints, floats):
    """(BLOCKED, until) when a guard refuses, (ENTER, 0) when all pass, (ASK, 0)."""
    blocked, until = False, 0
    loss_ms, bars = acct[ac.A_LOSS_MS], ints[pm.P_COOLDOWN]
    if bars > 0 and loss_ms >= 0 and now < loss_ms + bars * tf:
        blocked, until = True, loss_ms + bars * tf
    if ints[pm.P_DRAWDOWN]:
        peak = ac.units(acct, ac.A_PEAK)
        if peak <= 0:  # exact: a Wide's float has its sign
            return BLOCKED, FOREVER
        d_h, d_l = fx.sub(
            acct[ac.A_PEAK], acct[ac.A_PEAK + 1], acct[ac.A_EQUITY], acct[ac.A_EQUITY + 1]
        )
        if fx.sign(d_h, d_l) != 0:  # no drawdown passes (max_pct > 0)
            pct = fx.wide_value(d_h, d_l) / peak * 100
            if not _apart(pct, floats[pm.F_MAX_DD]):
                return ASK, 0
            if pct > floats[pm.F_MAX_DD]:
                return BLOCKED, FOREVER
    daily = ints[pm.P_DAILY]
    if daily != pm.DAILY_NONE:
        day_pnl = ac.units(acct, ac.A_DAY_PNL)
        limit = floats[pm.F_DAILY]  # units (amount) or a fraction
        if daily == pm.DAILY_FRACTION:
            s_h, s_l = fx.sub(
                acct[ac.A_EQUITY], acct[ac.A_EQUITY + 1], acct[ac.A_DAY_PNL], acct[ac.A_DAY_PNL + 1]
            )
            limit *= fx.wide_value(s_h, s_l)  # x the equity at 00:00 UTC
        if not _apart(-day_pnl, limit):
            return ASK, 0
        if -day_pnl > limit:
            blocked, until = True, max(until, (now // DAY_MS + 1) * DAY_MS)
    return (BLOCKED, until) if blocked else (ENTER, 0)


@njit(cache=True, inline="always")
def _distance(price_c, price_e, stop):
    """|price - price(stop)| as a float (2 ulps), 0.0 when equal, NaN: not decidable here."""
    s_c, s_e, ok = fx.dec12(stop)
    if not ok:
        return math.nan
    e = min(price_e, s_e)
    if price_e - e > 6 or s_e - e > 6:
        return math.nan
    diff = abs(price_c * fx.POW10I[price_e - e] - s_c * fx.POW10I[s_e - e])
    return float(diff) / fx.POW10F[-e] if e < 0 else float(diff) * fx.POW10F[e]


@njit(cache=True, inline="always")
def _lots(acct, side, ref, atr, cfg, ints, floats):
    """``position_size`` / lot step for the equity modes: (ENTER | SIZE_ZERO | ASK, lots)."""
    equity = ac.units(acct, ac.A_EQUITY) * floats[pm.F_UNIT]
    if equity <= 0:
        return SIZE_ZERO, 0
    p_c, p_e, ok = fx.dec12(ref)
    if not ok:
        return ASK, 0
    price, _ = fx.to_float(p_c, p_e)  # exact: p_c < 10**12
    value, leverage = floats[pm.F_VALUE], floats[pm.F_LEVERAGE]
    cap = equity * leverage / price
    if ints[pm.P_SIZING] == pm.PERCENT:
        qty = equity * value / 100 * leverage / price
    else:
        stop, _ = entry_levels(float(side), ref, atr, cfg)
        if math.isnan(stop):
            return SIZE_ZERO, 0
        distance = _distance(p_c, p_e, stop)
        if math.isnan(distance):
            return ASK, 0
        if distance == 0.0:
            return SIZE_ZERO, 0
        risk = equity * value / 100 / distance
        if not _apart(risk, cap):  # min() of two so close: fine if both give the same lots
            k, k_cap = _whole_lots(risk, floats[pm.F_STEP]), _whole_lots(cap, floats[pm.F_STEP])
            return _sized(k if k == k_cap else -1)
        qty = min(risk, cap)
    return _sized(_whole_lots(qty, floats[pm.F_STEP]))


@njit(cache=True, inline="always")
def _whole_lots(qty, step):
    """floor(qty / step) as Decimal's rounding gives it, or -1 when too close to call."""
    lots = qty / step
    k = math.floor(lots)
    if lots >= _MAX_LOTS or lots - k <= MARGIN * lots or k + 1 - lots <= MARGIN * lots:
        return -1
    return int(k)


@njit(cache=True, inline="always")
def _sized(lots):
    if lots < 0:
        return ASK, 0
    return (ENTER, lots) if lots > 0 else (SIZE_ZERO, 0)


@njit(cache=True, inline="always")
def decide(acct, now, tf, side, ref, atr, cfg, ints, floats):
    """The entry decision at a candle closing at ``now`` with close ``ref`` (see above)."""
    kind, until = _guards(acct, now, tf, ints, floats)
    if kind != ENTER:
        return kind, until, 0
    if ints[pm.P_SIZING] == pm.FIXED:
        return ENTER, ints[pm.P_QTY], ints[pm.P_QTY_E]
    kind, lots = _lots(acct, side, ref, atr, cfg, ints, floats)
    if kind != ENTER:
        return kind, 0, 0
    if lots >= fx.BASE // ints[pm.P_STEP]:
        return ASK, 0, 0  # the count would not fit (ask.answer then finds it inexact)
    return ENTER, lots * ints[pm.P_STEP], ints[pm.P_STEP_E]
