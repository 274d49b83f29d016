"""A synthetic L2 order book that follows the price path.

Best bid sits at the last trade price and best ask one tick above; behind them the book is a
fixed grid of levels (spaced so the book spans about 1% of the price on each side) whose sizes
are drawn from the symbol's seeded generator. Grid prices persist as the price moves, so
consecutive books differ by a few levels and deltas stay small. The book is liquidity the
simulator owns: market orders walk it (slippage); with market impact on, what they take is
gone until the next market step re-centres the book (`consume`).

Prices are kept as integer numbers of ticks inside (fast to hash and sort) and leave as
Decimal. Invariant: `_bid_ticks` (descending) and `_ask_ticks` (ascending) list exactly the
keys of `_bids` and `_asks`.
"""

from __future__ import annotations

import random
from decimal import ROUND_FLOOR, Decimal

Level = tuple[Decimal, Decimal]


class SyntheticBook:
    """Bids and asks of one symbol; `update(price)` moves them to a new last price."""

    def __init__(
        self, rng: random.Random, tick: Decimal, qty_step: Decimal, price: Decimal, levels: int
    ) -> None:
        self._rng = rng
        self._tick = tick
        self._qty_step = qty_step
        self._levels = levels
        self._grid = max(int(price * Decimal("0.01") / tick / levels), 1)
        self._base_steps = max(int(Decimal(40_000) / price / qty_step), 1)
        self._bids: dict[int, Decimal] = {}
        self._asks: dict[int, Decimal] = {}
        self._bid_ticks: list[int] = []
        self._ask_ticks: list[int] = []
        self.update_id = 0
        self.update(price)

    def _size(self, depth: int) -> Decimal:
        factor = (0.4 + self._rng.random() * 1.2) * (1 + depth * 0.03)
        steps = Decimal(max(int(self._base_steps * factor), 1))
        return steps * self._qty_step

    def _targets(self, last: int) -> tuple[list[int], list[int]]:
        g = self._grid
        bid_grid = (last - 1) // g * g
        ask_grid = (last + 1) // g * g + g
        bids = [last] + [bid_grid - i * g for i in range(self._levels - 1)]
        asks = [last + 1] + [ask_grid + i * g for i in range(self._levels - 1)]
        return [t for t in bids if t > 0], asks

    def _reshape(self, side: dict[int, Decimal], target: list[int]) -> None:
        for gone in side.keys() - set(target):
            del side[gone]
        for depth, t in enumerate(target):
            if t not in side:
                side[t] = self._size(depth)
        for _ in range(3):
            depth = self._rng.randrange(len(target))
            side[target[depth]] = self._size(depth)

    def update(self, price: Decimal) -> None:
        """Move the book to a new last price."""
        last = int((price / self._tick).to_integral_value(ROUND_FLOOR))
        self._bid_ticks, self._ask_ticks = self._targets(last)
        self._reshape(self._bids, self._bid_ticks)
        self._reshape(self._asks, self._ask_ticks)
        self.update_id += 1

    def top(self, depth: int) -> tuple[list[Level], list[Level]]:
        """Best `depth` levels: bids high to low, asks low to high."""
        tick = self._tick
        bids = [(t * tick, self._bids[t]) for t in self._bid_ticks[:depth]]
        asks = [(t * tick, self._asks[t]) for t in self._ask_ticks[:depth]]
        return bids, asks

    def best(self) -> tuple[Level, Level]:
        bids, asks = self.top(1)
        return bids[0], asks[0]

    def walk(self, side: str, qty: Decimal, limit: Decimal | None) -> list[Level]:
        """Fills (price, qty) a taker order of `side` gets by sweeping the opposite side, best
        first, not beyond `limit`. The sum can be less than qty if the book runs out."""
        book, ticks = (
            (self._asks, self._ask_ticks) if side == "Buy" else (self._bids, self._bid_ticks)
        )
        fills: list[Level] = []
        left = qty
        for t in ticks:
            if left <= 0:
                break
            price = t * self._tick
            if limit is not None and (price > limit if side == "Buy" else price < limit):
                break
            take = min(book[t], left)
            fills.append((price, take))
            left -= take
        return fills

    def consume(self, side: str, fills: list[Level]) -> None:
        """Remove what a taker order of `side` took (the `walk` result) from the book."""
        book, ticks = (
            (self._asks, self._ask_ticks) if side == "Buy" else (self._bids, self._bid_ticks)
        )
        for price, qty in fills:
            t = int(price / self._tick)
            left = book[t] - qty
            if left > 0:
                book[t] = left
            else:
                del book[t]
                ticks.remove(t)
        self.update_id += 1
