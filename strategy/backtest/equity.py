"""A backtest's equity curve: realized cash plus the open position marked to each close.

One numba pass over the trades and candles (the numpy version spent most of its time on
``repeat`` temporaries as long as the positions), the same float operations in the same
order, so both backtest loops produce the very same curve.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def equity_curve(
    close: np.ndarray,
    entry_i: np.ndarray,
    exit_i: np.ndarray,
    signed_qty: np.ndarray,
    money: np.ndarray,
    initial: float,
) -> np.ndarray:
    """Equity at each candle's close.

    Per trade: entry and exit candle, side x quantity, and ``money`` = [pnl, entry fee,
    entry price] as floats.  A position is marked from its entry candle to the candle before
    its exit candle (quantity x (close - entry) - entry fee); by the close of the exit candle
    its PnL is realized.  Positions never overlap.
    """
    n = len(close)
    realized = np.zeros(n)
    unrealized = np.zeros(n)
    for t in range(len(entry_i)):
        realized[exit_i[t]] += money[t, 0]
        q, fee, entry = signed_qty[t], money[t, 1], money[t, 2]
        for b in range(entry_i[t], exit_i[t]):
            unrealized[b] = q * (close[b] - entry) - fee
    out = np.empty(n)
    cash = 0.0
    for b in range(n):
        cash += realized[b]
        out[b] = initial + cash + unrealized[b]
    return out
