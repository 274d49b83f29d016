"""Stock pybit (HTTP and WebSocket) and ccxt.pro against the local exchange, unmodified but
for the URL and the CA: pybit's private order/execution/position/wallet streams agree with its
REST answers, ccxt.pro's watch_* calls receive the market and the account, and its *_ws order
calls go through the /v5/trade WebSocket."""

from __future__ import annotations

import asyncio
import importlib.util
import queue
import threading
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pybit.unified_trading as unified
import pytest

from exchange.admin import AdminClient, SyncAdminClient
from exchange.config import ExchangeConfig
from exchange.server import ExchangeServer
from exchange.testing import running_exchange

_spec = importlib.util.spec_from_file_location("clients", Path(__file__).with_name("clients.py"))
clients = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(clients)

SYMBOL = "BTC/USDT:USDT"
SUBSCRIBE_S = 60  # they take well under a second here
WS_DELAY_MS = 50  # every WebSocket message of the exchange, for pybit (see the test)


def _config(tmp_path) -> ExchangeConfig:
    return ExchangeConfig(clock="manual", ca_file=tmp_path / "ca.pem", history_candles=120, seed=11)


def _subscribe(private: unified.WebSocket, public: unified.WebSocket, messages: queue.Queue) -> None:
    for stream in ("order", "execution", "position", "wallet"):
        getattr(private, f"{stream}_stream")(callback=messages.put)
    public.kline_stream(interval=1, symbol="BTCUSDT", callback=messages.put)


def _within(seconds: float, what: str, work: Callable[[], None]) -> None:
    """Run `work` in a thread and fail the test if it has not ended within `seconds`: pybit's
    subscribe waits without end for a socket it closed itself; its log lines, captured by
    pytest, then say why."""
    failed: list[BaseException] = []

    def run() -> None:
        try:
            work()
        except BaseException as exc:  # handed to the test's thread
            failed.append(exc)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        pytest.fail(f"{what} did not complete within {seconds:g} s")
    if failed:
        raise failed[0]


def _next(messages: queue.Queue, topic: str, timeout: float = 10.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        message = messages.get(timeout=max(0.01, deadline - time.monotonic()))
        if message.get("topic") == topic:
            return message


def test_pybit_http_and_private_streams_agree(tmp_path, monkeypatch):
    with running_exchange(_config(tmp_path)) as server:
        monkeypatch.setenv("WEBSOCKET_CLIENT_CA_BUNDLE", str(server.ca_file))
        monkeypatch.setattr(unified, "PRIVATE_WSS", server.ws_private_url)
        monkeypatch.setattr(
            unified, "PUBLIC_WSS", server.ws_public_url.replace("linear", "{CHANNEL_TYPE}")
        )
        http = clients.pybit_http(server)
        private = unified.WebSocket(
            testnet=False,
            channel_type="private",
            api_key=server.config.api_key,
            api_secret=server.config.api_secret,
        )
        public = unified.WebSocket(testnet=False, channel_type="linear")
        messages: queue.Queue = queue.Queue()
        try:
            # a network's latency, as to Bybit: pybit stores a subscription after sending it,
            # and an acknowledgement that comes first kills its socket (KeyError on the req_id
            # in its callback; reproduced 4 times in 25 under CPU load with no delay)
            SyncAdminClient(server.admin_url, server.ca_file).set_faults(ws_delay_ms=WS_DELAY_MS)
            _within(SUBSCRIBE_S, "pybit's subscriptions", lambda: _subscribe(private, public, messages))
            time.sleep(0.5)  # subscriptions are acknowledged asynchronously

            klines = http.get_kline(category="linear", symbol="BTCUSDT", interval="1", limit=3)
            assert len(klines["result"]["list"]) == 3
            placed = http.place_order(
                category="linear",
                symbol="BTCUSDT",
                side="Buy",
                orderType="Market",
                qty="0.010",
                orderLinkId="pybit-1",
            )["result"]
            execution = _next(messages, "execution")["data"]
            order = _next(messages, "order")["data"][0]
            position = _next(messages, "position")["data"][0]
            wallet = _next(messages, "wallet")["data"][0]
            assert {e["orderId"] for e in execution} == {placed["orderId"]}
            assert order["orderStatus"] == "Filled" and order["orderLinkId"] == "pybit-1"

            rest_orders = http.get_open_orders(
                category="linear", symbol="BTCUSDT", orderLinkId="pybit-1"
            )
            assert rest_orders["result"]["list"][0]["cumExecQty"] == "0.010"
            rest_execs = http.get_executions(category="linear", symbol="BTCUSDT")["result"]["list"]
            assert sorted(e["execId"] for e in rest_execs) == sorted(e["execId"] for e in execution)
            rest_position = http.get_positions(category="linear", symbol="BTCUSDT")["result"][
                "list"
            ][0]
            assert (rest_position["size"], rest_position["avgPrice"]) == (
                position["size"],
                position["avgPrice"],
            )
            rest_wallet = http.get_wallet_balance(accountType="UNIFIED")["result"]["list"][0]
            assert rest_wallet["totalWalletBalance"] == wallet["totalWalletBalance"]

            SyncAdminClient(server.admin_url, server.ca_file).advance(ms=60_000)
            closed = _next(messages, "kline.1.BTCUSDT")
            assert (
                closed["data"][0]["start"]
                <= int(http.get_server_time()["result"]["timeNano"]) // 10**6
            )
        finally:
            private.exit()
            public.exit()
            http.client.close()


async def test_ccxt_pro_watches_market_and_account(tmp_path):
    async with ExchangeServer(_config(tmp_path)) as server:
        pro = clients.ccxt_pro_bybit(server)
        try:
            async with AdminClient(server.admin_url, server.ca_file) as admin:
                await pro.load_markets()

                async def tick() -> None:
                    for _ in range(6):
                        await asyncio.sleep(0.3)
                        await admin.advance(ms=5_000)

                async def buy() -> None:
                    await asyncio.sleep(0.5)
                    await pro.create_order(SYMBOL, "market", "buy", 0.01)

                async def watch(coro, action):
                    task = asyncio.create_task(action())
                    try:
                        return await asyncio.wait_for(coro, 15)
                    finally:
                        await task

                candles = await watch(pro.watch_ohlcv(SYMBOL, "1m"), tick)
                assert candles[-1][4] > 0
                book = await watch(pro.watch_order_book(SYMBOL), tick)
                assert book["bids"][0][0] < book["asks"][0][0]
                trades = await watch(pro.watch_trades(SYMBOL), tick)
                assert trades[-1]["symbol"] == SYMBOL
                orders = await watch(pro.watch_orders(SYMBOL), buy)
                assert orders[-1]["status"] == "closed"
                mine = await watch(pro.watch_my_trades(SYMBOL), buy)
                assert mine[-1]["side"] == "buy" and mine[-1]["amount"] > 0
                balance = await watch(pro.watch_balance(), buy)
                assert 0 < balance["USDT"]["total"] < 10000
                positions = await watch(pro.watch_positions([SYMBOL]), buy)
                # the REST snapshot (3 buys) or the push of the 4th buy, whichever comes first
                assert positions[-1]["side"] == "long"
                assert Decimal(str(positions[-1]["contracts"])) in (
                    Decimal("0.03"),
                    Decimal("0.04"),
                )

                # order entry over /v5/trade: create, amend, cancel
                last = (await pro.fetch_ticker(SYMBOL))["last"]
                placed = await pro.create_order_ws(
                    SYMBOL, "limit", "buy", 0.01, round(last * 0.99, 1), {"clientOrderId": "pro-ws"}
                )
                await pro.edit_order_ws(
                    placed["id"], SYMBOL, "limit", "buy", 0.02, round(last * 0.98, 1)
                )
                await pro.cancel_order_ws(placed["id"], SYMBOL)
                final = await pro.fetch_order(placed["id"], SYMBOL, {"acknowledged": True})
                assert (final["status"], final["amount"], final["clientOrderId"]) == (
                    "canceled",
                    0.02,
                    "pro-ws",
                )
        finally:
            await pro.close()
