"""The bot's exchange layer against the real local exchange, over real TLS sockets.

Each test starts an `ExchangeServer` on port 0 with the manual clock and talks to it only
through the bot's own clients (REST, private stream, cryptofeed). The exchange's own order
and execution lists are the judge.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest

from bot.bybit.convert import account_update
from bot.bybit.errors import TOO_MANY_VISITS, ApiError
from bot.bybit.orders import Orders
from bot.bybit.private_ws import PrivateStream
from bot.bybit.ratelimit import RateLimiter
from bot.bybit.rest import BybitRest
from bot.bybit.retry import RetryPolicy
from bot.bybit.signing import Credentials
from bot.bybit.venue import BybitVenue, fetch_instrument
from bot.market_data import BookTop, Candle, MarketFeed, PublicTrade, fetch_history
from bot.order_ids import is_own, order_link_id
from bot.positions import AccountModel
from bot.venue import Direction
from exchange.admin import AdminClient
from exchange.config import DEMO_API_KEY, DEMO_API_SECRET, ExchangeConfig
from exchange.server import ExchangeServer

SYMBOL = "BTCUSDT"
BOT = "integration-bot"
CREDS = Credentials(DEMO_API_KEY, DEMO_API_SECRET)
FAST_RETRY = RetryPolicy(attempts=8, base_s=0.02, cap_s=0.2)


@pytest.fixture
async def ex(tmp_path) -> AsyncIterator[ExchangeServer]:
    config = ExchangeConfig(clock="manual", symbols=(SYMBOL,), seed=5, ca_file=tmp_path / "ca.pem")
    server = ExchangeServer(config)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
async def admin(ex) -> AsyncIterator[AdminClient]:
    async with AdminClient(ex.admin_url, ex.ca_file) as client:
        yield client


@pytest.fixture
async def rest(ex) -> AsyncIterator[BybitRest]:
    async with BybitRest(ex.rest_url, CREDS, ca=ex.ca_file, timeout_s=2.0, retry=FAST_RETRY) as r:
        yield r


@pytest.fixture
async def orders(rest) -> Orders:
    return Orders(rest, await fetch_instrument(rest, SYMBOL))


@pytest.fixture
def venue(orders) -> BybitVenue:
    return BybitVenue(orders.rest, orders.instrument)


class Stream:
    """A running PrivateStream collecting what it delivers."""

    def __init__(self, ex, rest: BybitRest, ping_interval_s: float = 20.0) -> None:
        self.messages: list[dict] = []
        self.reconnects = 0
        self.arrived = asyncio.Event()
        self.client = PrivateStream(
            ex.ws_private_url,
            CREDS,
            self._on_message,
            on_reconnect=self._on_reconnect,
            ca=ex.ca_file,
            now_ms=rest.now_ms,
            backoff=RetryPolicy(base_s=0.05, cap_s=0.2),
            ping_interval_s=ping_interval_s,
        )
        self.task = asyncio.create_task(self.client.run())

    async def _on_message(self, msg: dict) -> None:
        self.messages.append(msg)
        self.arrived.set()

    async def _on_reconnect(self) -> None:
        self.reconnects += 1
        self.arrived.set()

    def rows(self, topic: str) -> list[dict]:
        return [row for m in self.messages if m["topic"] == topic for row in m["data"]]

    async def wait_for(self, predicate, timeout: float = 5.0) -> None:
        async with asyncio.timeout(timeout):
            while not predicate():
                self.arrived.clear()
                await self.arrived.wait()

    async def close(self) -> None:
        await self.client.stop()
        await self.task


@pytest.fixture
async def stream(ex, rest) -> AsyncIterator[Stream]:
    s = Stream(ex, rest)
    async with asyncio.timeout(5):
        await s.client.ready.wait()
    yield s
    await s.close()


async def exchange_orders(rest: BybitRest) -> list[dict]:
    """Every order the exchange knows for the symbol (its own history list)."""
    query = {"category": "linear", "symbol": SYMBOL, "limit": 50}
    return [o async for o in rest.pages("/v5/order/history", query)]


async def test_market_order_fill_and_position_arrive_on_the_private_stream(orders, stream, venue):
    link = order_link_id(BOT, 1, "entry")
    order = await orders.market_entry("Buy", Decimal("0.0104"), link)
    assert order["orderLinkId"] == link and order["orderStatus"] == "Filled"
    assert order["qty"] == "0.010"

    await stream.wait_for(
        lambda: (
            any(r["orderLinkId"] == link for r in stream.rows("execution"))
            and any(Decimal(r["size"]) == Decimal("0.010") for r in stream.rows("position"))
        )
    )
    model = AccountModel(SYMBOL)
    for msg in stream.messages:
        model.apply(account_update(msg))
    assert (model.position.direction, model.position.size) == (Direction.LONG, Decimal("0.010"))
    fills = model.fills_of(link)
    assert sum(f.qty for f in fills) == Decimal("0.010")

    result = await model.reconcile(venue)  # REST agrees with what the stream said
    assert result.differences == [] and result.missed_fills == []

    entry = model.position.avg_price
    await orders.set_trading_stop(
        "Buy", take_profit=entry * Decimal("1.0501"), stop_loss=entry * Decimal("0.9699")
    )
    await stream.wait_for(lambda: Decimal(stream.rows("position")[-1]["takeProfit"]) > 0)
    position = stream.rows("position")[-1]
    tick = orders.instrument.tick_size
    assert Decimal(position["takeProfit"]) % tick == 0 and Decimal(position["stopLoss"]) % tick == 0
    level = entry * Decimal("0.9699")  # a long's stop: the tick at or below the level
    assert level - tick < Decimal(position["stopLoss"]) <= level

    exit_link = order_link_id(BOT, 1, "exit")
    await orders.market_exit("Buy", Decimal("0.010"), exit_link)
    await stream.wait_for(lambda: Decimal(stream.rows("position")[-1]["size"]) == 0)


async def test_rest_faults_never_duplicate_an_order(orders, rest, admin):
    await admin.set_faults(
        rest_timeout_after_next=2,  # the first two writes time out *after* placing
        rest_error_rate=0.2,
        rest_timeout_rate=0.1,
        timeout_seconds=0.3,
    )
    links = [order_link_id(BOT, seq, "entry") for seq in range(1, 9)]
    for link in links:
        placed = await orders.market_entry("Buy", Decimal("0.001"), link)
        assert placed["orderLinkId"] == link
    faults = await admin.set_faults(rest_error_rate=0, rest_timeout_rate=0)
    assert faults["rest_timeout_after_next"] == 0  # both "placed, then timed out" happened

    on_exchange = [o["orderLinkId"] for o in await exchange_orders(rest)]
    assert sorted(on_exchange) == sorted(links)  # each intent exactly once
    executions = [
        e
        async for e in rest.pages(
            "/v5/execution/list", {"category": "linear", "symbol": SYMBOL, "limit": 100}
        )
    ]
    assert sum(Decimal(e["execQty"]) for e in executions) == Decimal("0.008")


async def test_client_timeout_after_placing_is_resolved_without_a_second_order(ex, admin):
    # The exchange holds the answer longer than the client waits: an httpx ReadTimeout.
    await admin.set_faults(rest_timeout_after_next=1, timeout_seconds=1.5)
    async with BybitRest(ex.rest_url, CREDS, ca=ex.ca_file, timeout_s=0.3, retry=FAST_RETRY) as r:
        orders = Orders(r, await fetch_instrument(r, SYMBOL))
        link = order_link_id(BOT, 77, "entry")
        placed = await orders.market_entry("Sell", Decimal("0.002"), link)
        assert placed["orderLinkId"] == link and placed["orderStatus"] == "Filled"
        assert [o["orderLinkId"] for o in await exchange_orders(r)] == [link]


async def test_lost_execution_message_is_found_by_reconciliation(orders, stream, venue, admin):
    model = AccountModel(SYMBOL)
    await model.load(venue)
    await admin.lose("execution", 1)
    link = order_link_id(BOT, 2, "entry")
    await orders.market_entry("Buy", Decimal("0.003"), link)
    await stream.wait_for(
        lambda: any(Decimal(r["size"]) == Decimal("0.003") for r in stream.rows("position"))
    )
    for msg in stream.messages:
        model.apply(account_update(msg))
    assert model.fills_of(link) == []  # the stream never delivered the fill

    result = await model.reconcile(venue)
    assert [f.link_id for f in result.missed_fills] == [link]
    assert [(d.kind, d.stream) for d in result.differences] == [("execution", None)]
    assert sum(f.qty for f in model.fills_of(link)) == Decimal("0.003")
    assert (await model.reconcile(venue)).differences == []  # reported once only


async def test_stream_reconnects_after_a_drop_and_asks_for_reconciliation(orders, stream, admin):
    await admin.drop_ws("private")
    await stream.wait_for(lambda: stream.reconnects == 1 and stream.client.ready.is_set())
    link = order_link_id(BOT, 3, "entry")
    await orders.market_entry("Buy", Decimal("0.001"), link)
    await stream.wait_for(lambda: any(r["orderLinkId"] == link for r in stream.rows("execution")))
    assert stream.client.connections == 2


async def test_rate_limit_headers_are_followed_without_10006(ex):
    # No published limits configured: the client learns them only from X-Bapi-Limit* headers.
    limiter = RateLimiter(limits={})
    async with BybitRest(
        ex.rest_url, CREDS, ca=ex.ca_file, limiter=limiter, retry=RetryPolicy(attempts=1)
    ) as r:
        orders = Orders(r, await fetch_instrument(r, SYMBOL))
        started = time.monotonic()
        for seq in range(14):
            try:
                await orders.market_entry("Buy", Decimal("0.001"), order_link_id(BOT, seq, "e"))
            except ApiError as exc:  # pragma: no cover - the failure this test guards against
                assert exc.ret_code != TOO_MANY_VISITS, "sent past the exchange's limit"
                raise
        elapsed = time.monotonic() - started
        assert limiter.limit("/v5/order/create") == 10
        assert elapsed >= 0.5  # had to wait for the window once the status reached 0
        assert len(await exchange_orders(r)) == 14


async def test_warm_up_history_and_closed_candles_from_cryptofeed(ex, rest, admin, tmp_path):
    history = await fetch_history(rest, SYMBOL, 120)
    assert len(history) == 120
    starts = [c.open_time_ms for c in history]
    assert starts == sorted(starts) and starts[-1] - starts[0] == 119 * 60_000

    instruments = (await rest.get("/v5/market/instruments-info", {"category": "linear"}))["list"]
    candles: list[Candle] = []
    tops: list[BookTop] = []
    trades: list[PublicTrade] = []
    got = asyncio.Event()

    async def on_candle(c: Candle) -> None:
        candles.append(c)
        got.set()

    async def on_top(top: BookTop) -> None:
        tops.append(top)

    async def on_trade(trade: PublicTrade) -> None:
        trades.append(trade)

    feed = MarketFeed(
        ex.rest_url,
        ex.ws_public_url,
        SYMBOL,
        instruments,
        on_candle,
        ca=ex.ca_file,
        on_book_top=on_top,
        on_trade=on_trade,
    )
    task = asyncio.create_task(feed.run())
    try:
        async with asyncio.timeout(10):
            while not (candles and tops and trades):
                await admin.advance(ms=60_000)
                try:
                    await asyncio.wait_for(got.wait(), 0.5)
                except TimeoutError:
                    pass
    finally:
        feed.stop()
        await task
    assert candles[0].open_time_ms > starts[-1]
    assert candles[0].open_time_ms % 60_000 == 0 and candles[0].high >= candles[0].low
    assert all(t.bid < t.ask for t in tops)
    assert trades[-1].price > 0 and trades[-1].side in ("buy", "sell")


async def test_application_pings_keep_a_quiet_stream_alive(ex, rest):
    s = Stream(ex, rest, ping_interval_s=0.1)  # Bybit wants 20 s; shortened for the test
    async with asyncio.timeout(5):
        await s.client.ready.wait()
    subscribed_at = s.client.last_message_at
    await asyncio.sleep(0.5)
    assert s.client.last_message_at > subscribed_at  # pongs came back with no topic traffic
    assert s.client.connections == 1 and s.messages == []
    await s.close()


async def test_resting_orders_are_listed_cancelled_once_and_cancel_all_clears_them(orders, stream):
    price = (await fetch_instrument(orders.rest, SYMBOL)).tick_size * 10_000  # far below market
    links = [order_link_id(BOT, seq, "limit") for seq in (1, 2, 3)]
    for link in links:
        placed = await orders.place("Buy", Decimal("0.01"), link, price=price + Decimal("0.07"))
        assert placed["orderStatus"] == "New" and Decimal(placed["price"]) == price
    assert sorted(o["orderLinkId"] for o in await orders.open_orders()) == links

    cancelled = await orders.cancel(links[0])
    assert cancelled["orderStatus"] == "Cancelled"
    assert (await orders.cancel(links[0]))["orderStatus"] == "Cancelled"  # already gone: no error
    assert sorted(await orders.cancel_all()) == links[1:]
    assert await orders.open_orders() == []

    model = AccountModel(SYMBOL)
    await stream.wait_for(lambda: len(stream.rows("order")) >= 6)
    for msg in stream.messages:
        model.apply(account_update(msg))
    assert model.open_orders == {}


async def test_lost_position_message_shows_as_a_difference_with_both_views(
    orders, stream, venue, admin
):
    model = AccountModel(SYMBOL)
    await model.load(venue)
    await admin.lose("position", 1)
    link = order_link_id(BOT, 4, "entry")
    await orders.market_entry("Sell", Decimal("0.004"), link)
    await stream.wait_for(lambda: any(r["orderLinkId"] == link for r in stream.rows("execution")))
    for msg in stream.messages:
        model.apply(account_update(msg))
    assert model.position.size == 0  # the stream never said the position changed

    result = await model.reconcile(venue)
    [diff] = result.differences
    assert diff.kind == "position" and diff.stream.size == 0
    assert (diff.rest.direction, diff.rest.size) == (Direction.SHORT, Decimal("0.004"))
    assert (model.position.direction, model.position.size) == (Direction.SHORT, Decimal("0.004"))


async def test_restart_adopts_the_open_position_and_finds_its_own_orphan_orders(orders, venue):
    await orders.market_entry("Buy", Decimal("0.005"), order_link_id(BOT, 9, "entry"))
    far = orders.instrument.tick_size * 10_000
    await orders.place("Buy", Decimal("0.01"), order_link_id(BOT, 9, "limit"), price=far)
    await orders.place("Buy", Decimal("0.01"), "someone-elses-order", price=far)

    restarted = AccountModel(SYMBOL)  # a fresh process after kill -9
    await restarted.load(venue)
    assert (restarted.position.direction, restarted.position.size) == (
        Direction.LONG,
        Decimal("0.005"),
    )
    orphans = [o for o in restarted.open_orders.values() if is_own(o.link_id, BOT)]
    assert [o.link_id for o in orphans] == [order_link_id(BOT, 9, "limit")]
    assert len(restarted.fills_of(order_link_id(BOT, 9, "entry"))) >= 1
    assert (await restarted.reconcile(venue)).differences == []


async def test_stale_signing_clock_is_resynced_after_10002(ex):
    async with BybitRest(ex.rest_url, CREDS, ca=ex.ca_file, retry=RetryPolicy(attempts=1)) as r:
        r._offset_ms = -60_000  # a clock a minute behind: outside the 5 s receive window
        result = await r.get(
            "/v5/position/list", {"category": "linear", "symbol": SYMBOL}, signed=True
        )
        assert result["list"][0]["symbol"] == SYMBOL
        assert abs(r.now_ms() - int(time.time() * 1000)) < 1000  # offset measured again


async def test_refused_stream_auth_resyncs_the_clock_and_keeps_trying(ex):
    resyncs = 0

    async def resync() -> None:
        nonlocal resyncs
        resyncs += 1

    async def ignore(_msg: dict) -> None:
        return None

    client = PrivateStream(
        ex.ws_private_url,
        Credentials(DEMO_API_KEY, "not-the-secret"),
        ignore,
        ca=ex.ca_file,
        backoff=RetryPolicy(base_s=0.05, cap_s=0.1),
        resync_clock=resync,
    )
    task = asyncio.create_task(client.run())
    async with asyncio.timeout(5):
        while resyncs < 2:
            await asyncio.sleep(0.05)
    assert not client.ready.is_set() and client.connections == 0
    await client.stop()
    await task
