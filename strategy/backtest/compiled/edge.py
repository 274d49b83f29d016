"""The compiled loop's edge: its integer trade rows as ``Decimal`` totals, floats and trades.

Nothing here touches a trade in Python unless asked: the KPI totals and the floats the
equity curve needs come from numba passes over the rows; ``TradeColumns`` builds a
``Trade`` (Decimals, signal state) only when a caller reads ``result.trades``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from decimal import Decimal
from typing import Any, overload

import numpy as np
from numba import njit

from strategy.backtest.compiled import fixed as fx
from strategy.backtest.compiled.loop import (
    C_ENTRY,
    C_ENTRY_FEE,
    C_EP,
    C_EP_E,
    C_EXIT,
    C_EXIT_MS,
    C_FEES,
    C_MAE,
    C_MFE,
    C_PNL,
    C_QTY,
    C_QTY_E,
    C_REASON,
    C_SIDE,
    C_XP,
)
from strategy.backtest.result import Trade
from strategy.kpis import TradeTotals

_POW10 = [10**k for k in range(64)]


def decimal(v: int, scale: int, exponent: int) -> Decimal:
    """The Decimal with ``exponent`` worth ``v * 10**-scale`` (exact by construction)."""
    return Decimal(v // _POW10[scale + exponent]).scaleb(exponent)


def wide_decimal(row: Sequence[int], col: int, scale: int) -> Decimal:
    return decimal(row[col] * fx.BASE + row[col + 1], scale, row[col + 2])


@njit(cache=True)
def _sum(rows, col, pick, money_scale):
    """Decimal(0) + each amount whose sign is ``pick`` (0: every one), in order:
    (hi, lo, exponent, how many, ok)."""
    h, lo, e, count, ok = 0, 0, 0, 0, True
    for t in range(len(rows)):
        if pick == 0 or fx.sign(rows[t, col], rows[t, col + 1]) == pick:
            h, lo = fx.add(h, lo, rows[t, col], rows[t, col + 1])
            e = min(e, rows[t, col + 2])
            count += 1
            ok = ok and fx.fits(h, money_scale + e)
    return h, lo, e, count, ok


@njit(cache=True)
def _time_totals(rows, open_time, start_ms, end_ms):
    """(sum of holds, time covered in [start, end)) — ``kpis._exposure`` over sorted trades."""
    hold, covered, reach = 0, 0, start_ms
    for t in range(len(rows)):
        entry_ms, exit_ms = open_time[rows[t, C_ENTRY]], rows[t, C_EXIT_MS]
        hold += exit_ms - entry_ms
        lo, hi = max(entry_ms, reach), min(exit_ms, end_ms)
        if hi > lo:
            covered += hi - lo
            reach = hi
    return hold, covered


@njit(cache=True)
def _floats(rows, money_scale, price_scale, q_scale):
    """float(pnl), float(entry_fee), float(entry_price), float(quantity) per trade; ok False
    where a single division would not round correctly (the caller converts those rows in
    Python)."""
    n = len(rows)
    out = np.empty((n, 4))
    ok = np.ones(n, dtype=np.bool_)
    for t in range(n):
        for j, col in enumerate((C_PNL, C_ENTRY_FEE)):
            h, lo, e = rows[t, col], rows[t, col + 1], rows[t, col + 2]
            out[t, j], good = fx.wide_float(h, lo, money_scale, e)
            ok[t] = ok[t] and good
        coefficient = rows[t, C_EP] // fx.POW10I[price_scale + rows[t, C_EP_E]]
        out[t, 2], good = fx.to_float(coefficient, rows[t, C_EP_E])
        ok[t] = ok[t] and good
        coefficient = rows[t, C_QTY] // fx.POW10I[q_scale + rows[t, C_QTY_E]]
        out[t, 3], good = fx.to_float(coefficient, rows[t, C_QTY_E])
        ok[t] = ok[t] and good
    return out, ok


class Columns:
    """The trade rows of one compiled run and the scales their integers count in."""

    def __init__(self, rows: np.ndarray, money_scale: int, price_scale: int, q_scale: int):
        self.rows = rows  # loop.C_* columns, one row per trade
        self.money_scale = money_scale  # amounts count 10**-money_scale
        self.price_scale = price_scale  # prices count 10**-price_scale
        self.q_scale = q_scale  # quantities count 10**-q_scale

    def totals(self, open_time: np.ndarray, start_ms: int, end_ms: int) -> TradeTotals | None:
        """Exact KPI totals, or None when a running sum leaves the 28-digit range."""
        sums, counts = [], []
        for col, pick in ((C_PNL, 0), (C_PNL, 1), (C_PNL, -1), (C_FEES, 0)):
            h, lo, e, count, ok = _sum(self.rows, col, pick, self.money_scale)
            if not ok:
                return None
            sums.append(decimal(fx.to_int(h, lo), self.money_scale, int(e)))
            counts.append(int(count))
        net, gross_win, losses, fees = sums
        wins = counts[1]
        hold, covered = _time_totals(self.rows, open_time, start_ms, end_ms)
        return TradeTotals(
            count=len(self.rows),
            net=net,
            wins=wins,
            gross_win=gross_win,
            gross_loss=-losses,
            fees=fees,
            hold_ms=int(hold),
            exposure=int(covered) / (end_ms - start_ms) if end_ms > start_ms else 0.0,
        )

    def floats(self) -> np.ndarray:
        """[pnl, entry_fee, entry_price, quantity] as floats per trade, each exactly
        ``float(Decimal)``."""
        out, ok = _floats(self.rows, self.money_scale, self.price_scale, self.q_scale)
        for t in np.flatnonzero(~ok):
            row = self.rows[t].tolist()
            out[t, 0] = float(wide_decimal(row, C_PNL, self.money_scale))
            out[t, 1] = float(wide_decimal(row, C_ENTRY_FEE, self.money_scale))
            out[t, 2] = float(self.price(row, C_EP))
            out[t, 3] = float(self.quantity(row))
        return out

    def price(self, row: Sequence[int], col: int) -> Decimal:
        return decimal(row[col], self.price_scale, row[col + 1])

    def quantity(self, row: Sequence[int]) -> Decimal:
        return decimal(row[C_QTY], self.q_scale, row[C_QTY_E])


class TradeColumns(Sequence[Trade]):
    """``result.trades`` of a compiled run: ``Trade`` objects built on first access."""

    def __init__(
        self,
        columns: Columns,
        open_time: np.ndarray,
        reasons: Sequence[str],
        signal_states: Callable[[np.ndarray], list[dict[str, Any]]],
    ) -> None:
        self._columns, self._open_time, self._reasons = columns, open_time, reasons
        self._signal_states = signal_states
        self._built: list[Trade] | None = None

    def __len__(self) -> int:
        return len(self._columns.rows)

    @overload
    def __getitem__(self, i: int) -> Trade: ...
    @overload
    def __getitem__(self, i: slice) -> list[Trade]: ...
    def __getitem__(self, i: int | slice) -> Trade | list[Trade]:
        return self._trades()[i]

    def __iter__(self) -> Iterator[Trade]:
        return iter(self._trades())

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sequence) and self._trades() == list(other)

    def __repr__(self) -> str:
        return repr(self._trades())

    def _trades(self) -> list[Trade]:
        if self._built is None:
            self._built = self._build()
        return self._built

    def _build(self) -> list[Trade]:
        cols, rows = self._columns, self._columns.rows
        states = self._signal_states(rows[:, C_ENTRY] - 1)
        money = cols.money_scale
        trades = []
        open_time = self._open_time.tolist()
        for row, state in zip(rows.tolist(), states, strict=True):
            entry = row[C_ENTRY]
            trades.append(
                Trade(
                    side="long" if row[C_SIDE] > 0 else "short",
                    quantity=cols.quantity(row),
                    entry_index=entry,
                    entry_time_ms=open_time[entry],
                    entry_price=cols.price(row, C_EP),
                    exit_index=row[C_EXIT],
                    exit_time_ms=row[C_EXIT_MS],
                    exit_price=cols.price(row, C_XP),
                    exit_reason=self._reasons[row[C_REASON]],
                    entry_fee=wide_decimal(row, C_ENTRY_FEE, money),
                    fees=wide_decimal(row, C_FEES, money),
                    pnl=wide_decimal(row, C_PNL, money),
                    mfe=wide_decimal(row, C_MFE, money),
                    mae=wide_decimal(row, C_MAE, money),
                    signal_state=state,
                )
            )
        return trades
