"""The account a backtest's guards and sizing read: closed-trade equity, its peak, today's
(UTC) realized PnL and the last losing exit — the Python loop's bookkeeping (the compiled
loop keeps the same numbers in integers: ``compiled.account``)."""

from __future__ import annotations

from decimal import Decimal

from strategy.backtest.result import Trade
from strategy.components.state import AccountState
from strategy.kpis import DAY_MS


class Account:
    """Closed-trade bookkeeping the guards read (also rebuilt by ``strategy.journal``)."""

    def __init__(self, initial: Decimal) -> None:
        self.equity = initial
        self.peak = initial
        self.day = -1
        self.day_pnl = Decimal(0)
        self.last_loss_exit_ms: int | None = None
        self._state: AccountState | None = None  # valid until a trade closes or a day starts

    def state(self, now_ms: int) -> AccountState:
        if now_ms // DAY_MS != self.day:
            self.day, self.day_pnl, self._state = now_ms // DAY_MS, Decimal(0), None
        if self._state is None:
            self._state = AccountState(
                equity=self.equity,
                peak_equity=self.peak,
                day_start_equity=self.equity - self.day_pnl,
                day_realized_pnl=self.day_pnl,
                open_positions=0,
                last_loss_exit_ms=self.last_loss_exit_ms,
            )
        return self._state

    def close(self, trade: Trade) -> None:
        self._state = None
        self.equity += trade.pnl
        self.peak = max(self.peak, self.equity)
        if trade.exit_time_ms // DAY_MS != self.day:
            self.day, self.day_pnl = trade.exit_time_ms // DAY_MS, Decimal(0)
        self.day_pnl += trade.pnl
        if trade.pnl < 0:
            self.last_loss_exit_ms = trade.exit_time_ms
