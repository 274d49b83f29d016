"""Account and position state handed to the evaluator by its caller (the bot or the backtester).

NamedTuples: immutable values that are cheap to build once per decision.
"""

from __future__ import annotations

from decimal import Decimal
from typing import NamedTuple


class AccountState(NamedTuple):
    """What the guards and the sizing rule see at decision time.

    ``equity`` is the account equity in quote currency (mark-to-market for the live bot;
    closed-trade equity in the backtester, which is flat whenever it decides an entry).
    ``peak_equity`` defaults to ``equity``; ``day_start_equity`` (equity at 00:00 UTC)
    defaults to ``equity``; ``day_realized_pnl`` is today's (UTC) realized PnL after fees;
    ``open_positions`` counts every open position of the account (all symbols);
    ``last_loss_exit_ms`` is when the most recent losing trade closed.
    """

    equity: Decimal
    peak_equity: Decimal | None = None
    day_start_equity: Decimal | None = None
    day_realized_pnl: Decimal = Decimal(0)
    open_positions: int = 0
    last_loss_exit_ms: int | None = None


class PositionState(NamedTuple):
    """The open position of this template's symbol, as the caller knows it.

    ``side`` is "long" or "short".  ``entry_time_ms`` identifies the position: the evaluator
    keeps its exit bookkeeping (best price so far, bars held) per entry and starts fresh when
    it sees a new one.  ``best_price`` (most favourable price of the candles completed since
    entry, i.e. before the one being decided) may be passed to seed that bookkeeping after a
    restart or a template hot-swap; it is ignored on the entry candle itself.  ``entry_atr``
    (the ATR of the entry decision, ``Decision.entry_atr``) likewise keeps an ``atr_stop``
    where it was after a restart; without it the latest ATR is used.
    """

    side: str
    quantity: Decimal
    entry_price: Decimal
    entry_time_ms: int
    best_price: Decimal | None = None
    entry_atr: float | None = None


class GuardResult(NamedTuple):
    """A guard's verdict; ``until_ms`` is when a block lifts by itself (None = it may not)."""

    allowed: bool
    until_ms: int | None = None
