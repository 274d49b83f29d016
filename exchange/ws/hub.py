"""The WebSocket hub: who is connected, what each connection subscribed to, and the fan-out of
market steps (public topics) and account changes (private topics), with the delay, loss and
drop faults applied on the way out.

Invariants: a connection appears in `_public[topic]` exactly while it is subscribed to that
topic; `_books[(symbol, depth)]` holds the last book view sent on that topic and exists only
while somebody is subscribed to it. Book messages carry the book's own update id as `u`
(the same number as REST orderbook), so every subscriber sees one sequence.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import uuid
from decimal import Decimal

from starlette.websockets import WebSocket, WebSocketDisconnect

from exchange.engine import Exchange
from exchange.market import views
from exchange.market.candles import INTERVAL_MS
from exchange.market.symbol import StepResult, SymbolMarket
from exchange.numbers import fmt

LOG = logging.getLogger(__name__)
BOOK_DEPTHS = (1, 50, 200, 500, 1000)
PRIVATE_TOPICS = ("order", "execution", "position", "wallet")
MAX_QUEUE = 20_000


def _json_default(value: object) -> str:
    if isinstance(value, Decimal):
        return fmt(value)
    raise TypeError(f"not JSON serialisable: {type(value)}")


class Connection:
    """One accepted WebSocket: an outbox drained by its own task, so a slow client never
    blocks the market, and a configurable delay applied to every message."""

    def __init__(self, websocket: WebSocket, kind: str, hub: Hub) -> None:
        self.ws = websocket
        self.kind = kind
        self.conn_id = str(uuid.uuid4())
        self.uid: int | None = None
        self.topics: set[str] = set()
        self._hub = hub
        self._outbox: asyncio.Queue[tuple[float, str] | None] = asyncio.Queue()
        self._pump = asyncio.create_task(self._drain())

    def send(self, message: dict) -> None:
        if self._outbox.qsize() > MAX_QUEUE:
            LOG.warning("dropping slow websocket %s", self.conn_id)
            asyncio.get_running_loop().create_task(self.close())
            return
        delay = self._hub.exchange.faults.settings.ws_delay_ms / 1000
        due = asyncio.get_running_loop().time() + delay
        self._outbox.put_nowait((due, json.dumps(message, default=_json_default)))

    async def _drain(self) -> None:
        loop = asyncio.get_running_loop()
        while (item := await self._outbox.get()) is not None:
            due, text = item
            if (wait := due - loop.time()) > 0:
                await asyncio.sleep(wait)
            try:
                await self.ws.send_text(text)
            except (OSError, RuntimeError, WebSocketDisconnect):
                return  # the peer went away; the receive loop cleans up

    async def close(self, code: int = 1001) -> None:
        self._pump.cancel()
        with contextlib.suppress(OSError, RuntimeError, WebSocketDisconnect):
            await self.ws.close(code)


class Hub:
    """Registry of connections and subscriptions; installed as the engine's listener."""

    def __init__(self, exchange: Exchange) -> None:
        self.exchange = exchange
        self._connections: set[Connection] = set()
        self._public: dict[str, set[Connection]] = {}
        self._books: dict[tuple[str, int], tuple[dict, dict, int]] = {}
        self._msg_ids = itertools.count(1)
        exchange.public_listeners.append(self.on_step)
        exchange.private_listeners.append(self.on_private)

    # -- connections -----------------------------------------------------------------------

    def connect(self, websocket: WebSocket, kind: str) -> Connection:
        conn = Connection(websocket, kind, self)
        self._connections.add(conn)
        return conn

    def disconnect(self, conn: Connection) -> None:
        self._connections.discard(conn)
        for topic in list(conn.topics):
            self.unsubscribe(conn, topic)

    async def drop(self, scope: str = "all", uid: int | None = None) -> int:
        """Close connections (fault injection or reset); returns how many."""
        victims = [
            c
            for c in self._connections
            if scope in ("all", c.kind) and (uid is None or c.uid == uid)
        ]
        for conn in victims:
            self.disconnect(conn)
            await conn.close()
        return len(victims)

    # -- public ---------------------------------------------------------------------------

    def parse_public_topic(self, topic: str) -> tuple[str, str, str] | None:
        """(kind, parameter, symbol) of a valid public topic, else None."""
        parts = topic.split(".")
        if parts[-1] not in self.exchange.markets:
            return None
        if len(parts) == 3 and parts[0] == "kline" and parts[1] in INTERVAL_MS:
            return ("kline", parts[1], parts[2])
        if (
            len(parts) == 3
            and parts[0] == "orderbook"
            and parts[1].isdigit()
            and int(parts[1]) in BOOK_DEPTHS
        ):
            return ("orderbook", parts[1], parts[2])
        if len(parts) == 2 and parts[0] in ("publicTrade", "tickers"):
            return (parts[0], "", parts[1])
        return None

    def subscribe(self, conn: Connection, topic: str) -> None:
        conn.topics.add(topic)
        self._public.setdefault(topic, set()).add(conn)
        kind, param, symbol = self.parse_public_topic(topic) or ("", "", "")
        market = self.exchange.markets.get(symbol)
        if kind == "orderbook" and market:
            bids, asks, u = self._book_view(market, int(param))
            conn.send(
                self._book_message(topic, market, "snapshot", bids, asks, u, self.exchange.now())
            )
        elif kind == "tickers" and market:
            conn.send(self._ticker_message(topic, market, "snapshot", self.exchange.now()))

    def unsubscribe(self, conn: Connection, topic: str) -> None:
        conn.topics.discard(topic)
        subs = self._public.get(topic)
        if subs is not None:
            subs.discard(conn)
            if not subs:
                del self._public[topic]
                parsed = self.parse_public_topic(topic)
                if parsed and parsed[0] == "orderbook":
                    self._books.pop((parsed[2], int(parsed[1])), None)

    def _fan_out(self, topic: str, message: dict) -> None:
        for conn in self._public.get(topic, ()):
            conn.send(message)

    def on_step(self, market: SymbolMarket, step: StepResult) -> None:
        symbol, spec, ts = market.spec.symbol, market.spec, step.ts
        for interval, closed in step.closed.items():
            topic = f"kline.{interval}.{symbol}"
            if topic not in self._public:
                continue
            current = market.candles.series[interval].current
            entries = [views.kline_entry(c, interval, True, ts, spec) for c in closed]
            entries.append(views.kline_entry(current, interval, False, ts, spec))
            for entry in entries:
                self._fan_out(
                    topic, {"topic": topic, "data": [entry], "ts": ts, "type": "snapshot"}
                )
        topic = f"publicTrade.{symbol}"
        if topic in self._public:
            data = [views.trade_entry(t, spec, market.seq) for t in step.trades]
            self._fan_out(topic, {"topic": topic, "type": "snapshot", "ts": ts, "data": data})
        for depth in BOOK_DEPTHS:
            topic = f"orderbook.{depth}.{symbol}"
            if topic in self._public:
                self._push_book(topic, market, depth, ts)
        topic = f"tickers.{symbol}"
        if topic in self._public:
            self._fan_out(topic, self._ticker_message(topic, market, "delta", ts))

    def _ticker_message(self, topic: str, market: SymbolMarket, kind: str, ts: int) -> dict:
        return {
            "topic": topic,
            "type": kind,
            "data": views.ticker(market, ts, self.exchange.config.seed),
            "cs": market.seq,
            "ts": ts,
        }

    def _book_view(self, market: SymbolMarket, depth: int) -> tuple[dict, dict, int]:
        key = (market.spec.symbol, depth)
        if key not in self._books:
            bids, asks = market.book.top(depth)
            self._books[key] = (dict(bids), dict(asks), market.book.update_id)
        return self._books[key]

    def _book_message(
        self, topic: str, market: SymbolMarket, kind: str, bids: dict, asks: dict, u: int, ts: int
    ) -> dict:
        spec = market.spec
        order_b = sorted(bids.items(), key=lambda kv: -kv[0])
        order_a = sorted(asks.items())
        return {
            "topic": topic,
            "type": kind,
            "ts": ts,
            "data": {
                "s": spec.symbol,
                "b": views.levels(order_b, spec),
                "a": views.levels(order_a, spec),
                "u": u,
                "seq": market.seq,
            },
            "cts": ts,
        }

    def _push_book(self, topic: str, market: SymbolMarket, depth: int, ts: int) -> None:
        old_b, old_a, _ = self._book_view(market, depth)
        new_b, new_a = (dict(side) for side in market.book.top(depth))
        u = market.book.update_id
        self._books[(market.spec.symbol, depth)] = (new_b, new_a, u)
        if depth == 1:
            self._fan_out(topic, self._book_message(topic, market, "snapshot", new_b, new_a, u, ts))
            return
        zero = Decimal(0)
        delta_b = {p: zero for p in old_b.keys() - new_b.keys()}
        delta_b.update({p: q for p, q in new_b.items() if old_b.get(p) != q})
        delta_a = {p: zero for p in old_a.keys() - new_a.keys()}
        delta_a.update({p: q for p, q in new_a.items() if old_a.get(p) != q})
        self._fan_out(topic, self._book_message(topic, market, "delta", delta_b, delta_a, u, ts))

    # -- private --------------------------------------------------------------------------

    def on_private(self, uid: int, topic: str, data: list[dict]) -> None:
        targets = [
            (c, name)
            for c in self._connections
            if c.kind == "private" and c.uid == uid
            for name in (topic, f"{topic}.linear")
            if name in c.topics
        ]
        if not targets or self.exchange.faults.lose_private(uid, topic):
            return
        msg_id = f"{uid}-{next(self._msg_ids)}"
        for conn, name in targets:
            conn.send(
                {"id": msg_id, "topic": name, "creationTime": self.exchange.now(), "data": data}
            )
