"""One symbol's market: every step draws the next price, prints public trades along the move,
moves the book and updates the candles. The market never depends on anybody's orders, so a
seed fixes it completely.
"""

from __future__ import annotations

import random
import uuid
from collections import deque
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from exchange.config import InstrumentSpec
from exchange.market.book import SyntheticBook
from exchange.market.candles import Candle, Candles
from exchange.market.pricepath import ReplayPath, SyntheticPath, quantize
from strategy.candle import Candle as ClosedCandle

RECENT_TRADES = 1000  # market/recent-trade serves at most 1000 (Bybit's limit)


@dataclass(frozen=True)
class PublicTrade:
    ts: int
    symbol: str
    side: str
    price: Decimal
    qty: Decimal
    trade_id: str
    tick_direction: str


@dataclass
class StepResult:
    """What one market step changed (for the public streams and for matching)."""

    ts: int
    trades: list[PublicTrade]
    closed: dict[str, list[Candle]]


class SymbolMarket:
    """Price path, book, candles and last-trade state of one symbol."""

    def __init__(
        self,
        spec: InstrumentSpec,
        seed: int,
        step_ms: int,
        book_levels: int,
        csv_candles: list[ClosedCandle] | None = None,
    ) -> None:
        self.spec = spec
        self._rng = random.Random(f"trades:{seed}:{spec.symbol}")
        path_rng = random.Random(f"path:{seed}:{spec.symbol}")
        if csv_candles:
            self.path: SyntheticPath | ReplayPath = ReplayPath(
                path_rng, csv_candles, spec.tick_size, step_ms
            )
            start = csv_candles[0].open
        else:
            self.path = SyntheticPath(path_rng, spec.start_price, spec.tick_size, step_ms)
            start = spec.start_price
        self.last_price = quantize(start, spec.tick_size)
        self.prev_tick_direction = "ZeroPlusTick"
        self.book = SyntheticBook(
            random.Random(f"book:{seed}:{spec.symbol}"),
            spec.tick_size,
            spec.qty_step,
            self.last_price,
            book_levels,
        )
        self.candles = Candles()
        self._trade_qty = max(
            (Decimal(3_000) / self.last_price / spec.qty_step).to_integral_value(ROUND_FLOOR)
            * spec.qty_step,
            spec.qty_step,
        )
        self.seq = 0
        self.recent: deque[PublicTrade] = deque(maxlen=RECENT_TRADES)  # newest last

    def _trade_id(self) -> str:
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def _tick_direction(self, price: Decimal, prev: Decimal) -> str:
        if price > prev:
            return "PlusTick"
        if price < prev:
            return "MinusTick"
        return "ZeroPlusTick" if self.prev_tick_direction.endswith("PlusTick") else "ZeroMinusTick"

    def step(self, ts: int, forced_price: Decimal | None = None, book: bool = True) -> StepResult:
        """Advance the market to step time `ts` (`book=False` skips the book: history)."""
        if forced_price is not None:
            self.path.jump_to(forced_price)
            target = quantize(forced_price, self.spec.tick_size)
        else:
            target = self.path.next_price()
        prev = self.last_price
        count = 1 + self._rng.randrange(3)
        trades = []
        for i in range(count):
            frac = Decimal(i + 1) / Decimal(count)
            price = quantize(prev + (target - prev) * frac, self.spec.tick_size)
            last = trades[-1].price if trades else prev
            side = "Buy" if price > last or (price == last and self._rng.random() < 0.5) else "Sell"
            qty = self._trade_qty * Decimal(1 + self._rng.randrange(20))
            direction = self._tick_direction(price, last)
            self.prev_tick_direction = direction
            trades.append(
                PublicTrade(ts, self.spec.symbol, side, price, qty, self._trade_id(), direction)
            )
        self.recent.extend(trades)
        self.last_price = target
        volume = sum((t.qty for t in trades), Decimal(0))
        closed = self.candles.tick(ts, target, volume)
        if book:
            self.book.update(target)
        self.seq += 1
        return StepResult(ts, trades, closed)

    def trade_own(
        self, side: str, fills: list[tuple[Decimal, Decimal]], ts: int, trade_ids: list[str]
    ) -> StepResult:
        """A trader's taker fills hit the market: the book loses what they took, they print
        as public trades (taker `side`), move the last price and count in the candles."""
        self.book.consume(side, fills)
        trades = []
        closed: dict[str, list[Candle]] = {}
        for (price, qty), trade_id in zip(fills, trade_ids, strict=True):
            direction = self._tick_direction(price, self.last_price)
            self.prev_tick_direction = direction
            trades.append(PublicTrade(ts, self.spec.symbol, side, price, qty, trade_id, direction))
            self.last_price = price
            for name, done in self.candles.tick(ts, price, qty).items():
                closed.setdefault(name, []).extend(done)
        self.recent.extend(trades)
        self.seq += 1
        return StepResult(ts, trades, closed)

    def price_band(self) -> tuple[Decimal, Decimal]:
        """(highest buy price, lowest sell price) an order may carry. Bybit, futures:
        max buy = min(max(index, mark·(1+x)), mark·(1+y)), min sell = max(min(index,
        mark·(1−x)), mark·(1−y)) with x, y the instrument's riskParameters
        (https://bybit-exchange.github.io/docs/v5/account/set-price-limit); index = mark =
        last here."""
        spec, mark = self.spec, self.last_price
        x, y = spec.price_limit_x, spec.price_limit_y
        high = min(max(mark, mark * (1 + x)), mark * (1 + y))
        low = max(min(mark, mark * (1 - x)), mark * (1 - y))
        tick = spec.tick_size
        return (
            (high / tick).to_integral_value(ROUND_FLOOR) * tick,
            (low / tick).to_integral_value(ROUND_CEILING) * tick,
        )

    def stats_24h(self, now: int) -> dict[str, Decimal]:
        """24h high/low/volume/turnover and the reference prices for tickers."""
        hours = self.candles.series["60"].window(now - 86_400_000 + 1, None, 25)
        minutes = self.candles.series["1"].window(now - 3_600_000, None, 61)
        prev24 = hours[-1].open if hours else self.last_price
        prev1h = minutes[-1].open if minutes else self.last_price
        return {
            "high": max((c.high for c in hours), default=self.last_price),
            "low": min((c.low for c in hours), default=self.last_price),
            "volume": sum((c.volume for c in hours), Decimal(0)),
            "turnover": sum((c.turnover for c in hours), Decimal(0)),
            "prev24h": prev24,
            "prev1h": prev1h,
        }
