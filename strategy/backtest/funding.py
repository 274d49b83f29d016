"""Funding of a perpetual position in a backtest, as the exchange charges it: at every
8-hour funding time (00:00, 08:00, 16:00 UTC) the position held then pays
side × quantity × price × rate (longs pay a positive rate, shorts receive it). The local
exchange and Bybit charge the same way (see exchange/funding.py, docs/exchange.md).

`funding_cost` is the one entry point; the engine subtracts it from a trade's PnL when
`BacktestConfig.funding_rate` is not zero.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

INTERVAL_MS = 8 * 3_600_000


def funding_times(entry_ms: int, exit_ms: int) -> range:
    """Funding times at which a position opened at `entry_ms` and closed at `exit_ms` is
    held: entry_ms <= t < exit_ms."""
    first = -(-entry_ms // INTERVAL_MS) * INTERVAL_MS
    return range(first, exit_ms, INTERVAL_MS)


def funding_cost(
    side: int,
    quantity: Decimal,
    entry_ms: int,
    exit_ms: int,
    rate: Decimal,
    price_at: Callable[[int], Decimal],
) -> Decimal:
    """What the position pays (> 0) or receives (< 0) in funding while open; `side` is +1
    long, −1 short, `price_at(t)` the price at funding time t."""
    return sum(
        (side * quantity * price_at(t) * rate for t in funding_times(entry_ms, exit_ms)),
        Decimal(0),
    )
