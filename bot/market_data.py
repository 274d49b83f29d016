"""Market data for the bot: cryptofeed's Bybit feed (closed candles, book top, trades) and
warm-up candle history over REST (market/kline, paginated, oldest first).

cryptofeed has no endpoint setting: `feed_class` uses the Bybit adapter's override
(`bot.bybit.feed`: a Bybit subclass with the linear WebSocket and REST endpoints replaced
and our TLS context). Its symbol table is seeded from our own instruments-info
answer, so cryptofeed makes no symbol-list calls of its own (three REST calls and a cache
file fewer at every start).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from cryptofeed.defines import CANDLES, L2_BOOK, TRADES
from cryptofeed.exchanges import Bybit
from cryptofeed.symbols import Symbols

from bot.bybit.feed import bybit_feed_class
from bot.bybit.rest import BybitRest, base_url
from bot.bybit.tls import CaSource, ssl_context
from strategy.candle import Candle
from strategy.template import TIMEFRAMES

__all__ = ["BookTop", "Candle", "MarketFeed", "PublicTrade", "fetch_history"]

log = logging.getLogger(__name__)

PUBLIC_URLS = {
    "mainnet": "wss://stream.bybit.com/v5/public/linear",
    "testnet": "wss://stream-testnet.bybit.com/v5/public/linear",
}


@dataclass(frozen=True)
class BookTop:
    bid: Decimal
    bid_qty: Decimal
    ask: Decimal
    ask_qty: Decimal
    ts_ms: int


@dataclass(frozen=True)
class PublicTrade:
    side: str
    qty: Decimal
    price: Decimal
    ts_ms: int


def feed_class(rest_url: str, ws_url: str, ca: CaSource = None) -> type[Bybit]:
    """cryptofeed's Bybit feed pointed at ``ws_url`` (``wss://…/linear``) and ``rest_url``."""
    return bybit_feed_class(rest_url, PUBLIC_URLS.get(ws_url, ws_url), ssl_context(ca))


def seed_symbols(instruments: list[dict[str, Any]]) -> dict[str, str]:
    """Add instruments-info rows to cryptofeed's (process-wide) symbol table, keeping what is
    already there; returns exchange→std names of the rows given."""
    rows = [{"contractType": "LinearPerpetual", **row} for row in instruments]
    symbols, info = Bybit._parse_symbol_data([{"result": {"list": rows}}])
    if Symbols.populated(Bybit.id):
        old_symbols, old_info = Symbols.get(Bybit.id)
        merged_info = {key: {**old_info.get(key, {}), **info[key]} for key in info}
        Symbols.set(Bybit.id, {**old_symbols, **symbols}, {**old_info, **merged_info})
    else:
        Symbols.set(Bybit.id, symbols, dict(info))
    return {exchange: std for std, exchange in symbols.items()}


class MarketFeed:
    """Delivers closed candles (and optionally book top and trades) of one symbol."""

    def __init__(
        self,
        rest_url: str,
        ws_url: str,
        symbol: str,
        instruments: list[dict[str, Any]],
        on_candle: Callable[[Candle], Awaitable[None]],
        *,
        interval: str = "1m",
        ca: CaSource = None,
        on_book_top: Callable[[BookTop], Awaitable[None]] | None = None,
        on_trade: Callable[[PublicTrade], Awaitable[None]] | None = None,
        watchdog_s: int = 120,
    ) -> None:
        std = seed_symbols(instruments)[symbol]
        callbacks: dict[str, Any] = {CANDLES: self._candle}
        if on_book_top is not None:
            callbacks[L2_BOOK] = self._book
        if on_trade is not None:
            callbacks[TRADES] = self._trade
        self._on_candle, self._on_book_top, self._on_trade = on_candle, on_book_top, on_trade
        self._feed = feed_class(base_url(rest_url), ws_url, ca)(
            symbols=[std],
            channels=list(callbacks),
            callbacks=callbacks,
            candle_interval=interval,
            retries=-1,
            timeout=watchdog_s,
        )
        self._stop = asyncio.Event()

    async def run(self) -> None:
        """Stream until `stop`; cryptofeed reconnects by itself."""
        await self._feed.run(self._stop)

    def stop(self) -> None:
        self._stop.set()

    async def _candle(self, c: Any, _receipt: float) -> None:
        await self._on_candle(
            Candle(round(c.start * 1000), c.open, c.high, c.low, c.close, c.volume)
        )

    async def _book(self, book: Any, _receipt: float) -> None:
        if not book.book.bids or not book.book.asks:
            return
        bid, bid_qty = book.book.bids.index(0)
        ask, ask_qty = book.book.asks.index(0)
        await self._on_book_top(BookTop(bid, bid_qty, ask, ask_qty, round(book.timestamp * 1000)))

    async def _trade(self, t: Any, _receipt: float) -> None:
        await self._on_trade(PublicTrade(t.side, t.amount, t.price, round(t.timestamp * 1000)))


async def fetch_history(
    rest: BybitRest,
    symbol: str,
    count: int,
    *,
    interval: str = "1m",
    category: str = "linear",
    now_ms: int | None = None,
) -> list[Candle]:
    """The last ``count`` closed candles, oldest first, paging backwards through market/kline
    (newest-first, at most 1000 rows per call).

    Without ``now_ms`` the newest row of the first page is taken to be the forming candle and
    left out (Bybit always lists it; the exchange's market clock may differ from ours). Merge
    live candles by ``open_time_ms``: the first live one may repeat the last one here.
    """
    step = TIMEFRAMES[interval]
    by_start: dict[int, Candle] = {}
    end: int | None = now_ms
    skip_newest = now_ms is None
    while len(by_start) < count:
        limit = min(1000, count - len(by_start) + 1)
        query: dict[str, object] = {
            "category": category,
            "symbol": symbol,
            "interval": Bybit.candle_interval_map[interval],
            "limit": limit,
        }
        if end is not None:
            query["end"] = end
        rows = (await rest.get("/v5/market/kline", query)).get("list", [])
        for row in rows[1:] if skip_newest else rows:
            start = int(row[0])
            if now_ms is None or start + step <= now_ms:
                by_start[start] = Candle(start, *(Decimal(v) for v in row[1:6]))
        skip_newest = False
        if len(rows) < limit:
            break
        end = min(int(row[0]) for row in rows) - 1
    return [by_start[s] for s in sorted(by_start)][-count:]
