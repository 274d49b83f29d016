"""The REST and WebSocket surface as Bybit answers it: unknown routes get Bybit's JSON error,
other categories an empty list, open orders need a filter, per-endpoint rate limits, one
market clock for every timestamp a client sees (signatures still judged on the wall clock),
and the stream details clients rely on (book `u` continuing the REST book, `seq` on trades,
the position topic after order changes)."""

from __future__ import annotations

import asyncio
import json
import time

import websockets

from exchange.server import ExchangeServer


async def test_unknown_route_and_method_answer_bybit_json(bybit):
    for method, path in (("GET", "/v5/market/nonsense"), ("DELETE", "/v5/order/create")):
        answer = await bybit.http.request(method, path)
        assert answer.status_code == 404
        assert answer.headers["content-type"] == "application/json"
        body = answer.json()
        assert body["retCode"] == 10001 and path in body["retMsg"] and "time" in body


async def test_other_categories_answer_empty_lists(bybit):
    for category in ("inverse", "spot"):
        for path, extra in (
            ("/v5/position/list", {"settleCoin": "USDT"}),
            ("/v5/order/realtime", {"settleCoin": "USDT"}),
            ("/v5/execution/list", {}),
            ("/v5/position/closed-pnl", {}),
        ):
            result = await bybit.call("GET", path, {"category": category, **extra})
            assert result["list"] == [] and result["category"] == category
        public = await bybit.http.get("/v5/market/tickers", params={"category": category})
        assert public.json()["result"]["list"] == []
    bad = await bybit.get("/v5/position/list", {"category": "futures", "settleCoin": "USDT"})
    assert bad.json()["retCode"] == 10001


async def test_open_orders_need_symbol_base_or_settle_coin(bybit):
    answer = (await bybit.get("/v5/order/realtime", {"category": "linear"})).json()
    assert answer["retCode"] == 10001 and "symbol" in answer["retMsg"]
    assert (
        await bybit.call("GET", "/v5/order/realtime", {"category": "linear", "baseCoin": "BTC"})
    )["list"] == []


async def test_rate_limits_per_endpoint(bybit):
    async def burst(method: str, path: str, params: dict, n: int) -> list[int]:
        codes = []
        for _ in range(n):
            call = bybit.post if method == "POST" else bybit.get
            answer = await call(path, params)
            codes.append(answer.json()["retCode"])
            last = answer
        assert last.headers["X-Bapi-Limit"]
        return codes

    cancel_all = await burst("POST", "/v5/order/cancel-all", {"category": "linear"}, 11)
    assert cancel_all[:10] == [0] * 10 and cancel_all[10] == 10006
    fee = await burst("GET", "/v5/account/fee-rate", {"category": "linear"}, 6)
    assert fee[:5] == [0] * 5 and fee[5] == 10006


def _client_timestamps(result: dict, keys: tuple[str, ...]) -> list[int]:
    return [int(row[k]) for row in result["list"] for k in keys if row.get(k)]


async def test_every_timestamp_follows_the_market_clock_at_speed(tmp_path, helpers, linear):
    config = helpers.manual_config(tmp_path, clock="wall", speed=600, history_candles=30)
    async with ExchangeServer(config) as server:
        client = helpers.BybitClient(
            server.rest_url, server.ca_file, config.api_key, config.api_secret
        )
        try:
            await asyncio.sleep(1.0)  # 10 market minutes
            placed = await client.call(
                "POST",
                "/v5/order/create",
                {**linear, "side": "Buy", "orderType": "Market", "qty": "0.010"},
            )
            answer = await client.http.get("/v5/market/time")
            server_ms = int(answer.json()["result"]["timeNano"]) // 1_000_000
            assert answer.json()["time"] >= server_ms
            # the market clock ran ahead of the wall clock, and signatures still pass
            assert server_ms > server.exchange.start_ms + 5 * 60_000
            klines = (
                await client.http.get(
                    "/v5/market/kline", params={**linear, "interval": "1", "limit": 20}
                )
            ).json()["result"]["list"]
            seen = [int(row[0]) for row in klines]
            trades = (await client.http.get("/v5/market/recent-trade", params=linear)).json()[
                "result"
            ]
            seen += _client_timestamps(trades, ("time",))
            orders = await client.call(
                "GET", "/v5/order/realtime", {**linear, "orderId": placed["orderId"]}
            )
            seen += _client_timestamps(orders, ("createdTime", "updatedTime"))
            seen += _client_timestamps(
                await client.call("GET", "/v5/execution/list", linear), ("execTime",)
            )
            seen += _client_timestamps(
                await client.call("GET", "/v5/position/list", linear), ("updatedTime",)
            )
            book = (await client.http.get("/v5/market/orderbook", params=linear)).json()["result"]
            seen += [book["ts"]]
            latest = (
                int((await client.http.get("/v5/market/time")).json()["result"]["timeNano"])
                // 10**6
            )
            assert seen and max(seen) <= latest
            assert max(seen) > server.exchange.start_ms + 5 * 60_000
        finally:
            await client.aclose()


async def test_book_u_continues_the_rest_book_and_trades_carry_seq(
    server, bybit, admin, helpers, linear
):
    rest = (await bybit.http.get("/v5/market/orderbook", params=linear)).json()["result"]
    ws = await websockets.connect(server.ws_public_url, ssl=helpers.client_ssl(server.ca_file))
    try:
        await ws.send(
            json.dumps({"op": "subscribe", "args": ["orderbook.50.BTCUSDT", "publicTrade.BTCUSDT"]})
        )
        snapshot = await helpers.recv_until(
            ws, lambda m: m.get("type") == "snapshot" and "orderbook" in m.get("topic", "")
        )
        await admin.advance(ms=5_000)
        seen: dict[str, dict] = {}

        def both(message: dict) -> bool:
            if message.get("type") == "delta" or message.get("topic") == "publicTrade.BTCUSDT":
                seen[message["topic"]] = message
            return len(seen) == 2

        await helpers.recv_until(ws, both)
        delta, trades = seen["orderbook.50.BTCUSDT"], seen["publicTrade.BTCUSDT"]
    finally:
        await ws.close()
    assert snapshot["data"]["u"] == rest["u"] > 1
    assert delta["data"]["u"] == rest["u"] + 1
    assert all(t["seq"] == delta["data"]["seq"] for t in trades["data"])


async def test_position_is_pushed_when_an_order_rests_or_is_cancelled(
    server, bybit, helpers, linear
):
    ws = await helpers.open_private(server, bybit.api_key, bybit.api_secret, ["position", "order"])
    try:
        book = (await bybit.http.get("/v5/market/orderbook", params=linear)).json()["result"]
        price = str(round(float(book["b"][0][0]) - 500, 1))
        placed = await bybit.call(
            "POST",
            "/v5/order/create",
            {**linear, "side": "Buy", "orderType": "Limit", "qty": "0.010", "price": price},
        )
        await helpers.recv_until(ws, lambda m: m.get("topic") == "position")
        await bybit.call("POST", "/v5/order/cancel", {**linear, "orderId": placed["orderId"]})
        pushed = await helpers.recv_until(ws, lambda m: m.get("topic") == "position")
    finally:
        await ws.close()
    assert pushed["data"][0]["symbol"] == "BTCUSDT" and pushed["data"][0]["size"] == "0.000"


async def test_a_client_synced_to_market_time_is_accepted_too(bybit, linear):
    market_ms = int((await bybit.http.get("/v5/market/time")).json()["result"]["timeNano"]) // 10**6
    assert (await bybit.get("/v5/position/list", linear, timestamp=market_ms)).json()[
        "retCode"
    ] == 0
    stale = (await bybit.get("/v5/position/list", linear, timestamp=market_ms - 60_000)).json()
    assert stale["retCode"] == 10002


async def test_private_auth_expiry_on_either_clock(server, bybit, helpers):
    market_ms = int((await bybit.http.get("/v5/market/time")).json()["result"]["timeNano"]) // 10**6
    wall_ms = int(time.time() * 1000)
    answers = []
    for expires in (market_ms + 10_000, wall_ms - 1_000, market_ms - 1_000):
        ws = await websockets.connect(server.ws_private_url, ssl=helpers.client_ssl(server.ca_file))
        try:
            signature = helpers.hmac_hex(bybit.api_secret, f"GET/realtime{expires}")
            await ws.send(json.dumps({"op": "auth", "args": [bybit.api_key, expires, signature]}))
            answers.append(json.loads(await ws.recv())["success"])
        finally:
            await ws.close()
    assert answers == [True, False, False]
