"""The template's always-on risk limits, applied like guards: max open positions, daily loss.

``daily_loss_limit`` is ``{"mode": "fraction", "value": f}`` (block once today's realized
loss reaches f x the equity at 00:00 UTC) or ``{"mode": "amount", "value": a}`` (block once
it reaches a, in quote currency), or null for none.  Blocks lift at the next UTC midnight.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from strategy.components.state import AccountState, GuardResult

DAY_MS = 86_400_000
ALLOWED = GuardResult(True)
BLOCKED = GuardResult(False)


def max_open_positions(account: AccountState, limit: int) -> GuardResult:
    return ALLOWED if account.open_positions < limit else BLOCKED


def daily_loss_limit(
    account: AccountState, now_ms: int, limit: dict[str, Any] | None
) -> GuardResult:
    if limit is None:
        return ALLOWED
    value = Decimal(str(limit["value"]))
    if limit["mode"] == "fraction":
        start = account.day_start_equity if account.day_start_equity is not None else account.equity
        value *= start
    next_midnight = (now_ms // DAY_MS + 1) * DAY_MS
    return GuardResult(-account.day_realized_pnl < value, next_midnight)
