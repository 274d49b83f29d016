"""Orders as Bybit treats them: conditional orders wait `Untriggered` for the market to cross
their trigger; TP/SL are checked against the side; limit prices stay inside the price band;
qty "0" + reduceOnly + closeOnTrigger closes the position; own fills move the market (impact)
unless impact is off; orders go in over the `/v5/trade` WebSocket too."""

from __future__ import annotations

import json
import time
from decimal import Decimal

import websockets

from exchange.server import ExchangeServer


async def _last(bybit) -> Decimal:
    answer = await bybit.http.get(
        "/v5/market/tickers", params={"category": "linear", "symbol": "BTCUSDT"}
    )
    return Decimal(answer.json()["result"]["list"][0]["lastPrice"])


async def _order(bybit, linear, order_id: str) -> dict:
    found = await bybit.call("GET", "/v5/order/realtime", {**linear, "orderId": order_id})
    return found["list"][0]


async def _create(bybit, body: dict) -> dict:
    return (await bybit.post("/v5/order/create", body)).json()


async def test_conditional_order_waits_untriggered_until_the_price_crosses(bybit, admin, linear):
    last = await _last(bybit)
    trigger = last - 100
    placed = await bybit.call(
        "POST",
        "/v5/order/create",
        {
            **linear,
            "side": "Sell",
            "orderType": "Market",
            "qty": "0.010",
            "triggerPrice": str(trigger),
            "triggerDirection": 2,
            "orderLinkId": "stop-entry",
        },
    )
    order = await _order(bybit, linear, placed["orderId"])
    assert (order["orderStatus"], order["stopOrderType"]) == ("Untriggered", "Stop")
    assert order["triggerPrice"] == str(trigger) and order["triggerDirection"] == 2
    await admin.set_price("BTCUSDT", str(last + 50))
    await admin.advance(ms=5_000)
    assert (await _order(bybit, linear, placed["orderId"]))["orderStatus"] == "Untriggered"
    assert (await bybit.call("GET", "/v5/execution/list", linear))["list"] == []
    await admin.set_price("BTCUSDT", str(trigger - 20))
    await admin.advance(ms=5_000)
    order = await _order(bybit, linear, placed["orderId"])
    assert order["orderStatus"] == "Filled" and order["cumExecQty"] == "0.010"
    position = (await bybit.call("GET", "/v5/position/list", linear))["list"][0]
    assert (position["side"], position["size"]) == ("Sell", "0.010")


async def test_conditional_order_checks_direction_and_cancels_as_deactivated(bybit, linear):
    last = await _last(bybit)
    wrong = await _create(
        bybit,
        {
            **linear,
            "side": "Buy",
            "orderType": "Market",
            "qty": "0.010",
            "triggerPrice": str(last - 100),
            "triggerDirection": 1,
        },
    )
    assert wrong["retCode"] == 110092
    missing = await _create(
        bybit,
        {
            **linear,
            "side": "Buy",
            "orderType": "Market",
            "qty": "0.010",
            "triggerPrice": str(last + 100),
        },
    )
    assert missing["retCode"] == 10001 and "triggerDirection" in missing["retMsg"]
    placed = await bybit.call(
        "POST",
        "/v5/order/create",
        {
            **linear,
            "side": "Buy",
            "orderType": "Limit",
            "qty": "0.010",
            "price": str(last + 100),
            "triggerPrice": str(last + 100),
            "triggerDirection": 1,
        },
    )
    await bybit.call("POST", "/v5/order/cancel", {**linear, "orderId": placed["orderId"]})
    assert (await _order(bybit, linear, placed["orderId"]))["orderStatus"] == "Deactivated"


async def test_take_profit_on_the_wrong_side_of_a_buy_is_refused(bybit, linear):
    last = await _last(bybit)
    answer = await _create(
        bybit,
        {
            **linear,
            "side": "Buy",
            "orderType": "Market",
            "qty": "0.010",
            "takeProfit": str(last - 500),
        },
    )
    assert answer["retCode"] == 10001 and "TakeProfit" in answer["retMsg"]
    answer = await _create(
        bybit,
        {
            **linear,
            "side": "Sell",
            "orderType": "Limit",
            "qty": "0.010",
            "price": str(last + 100),
            "stopLoss": str(last),
        },
    )
    assert answer["retCode"] == 10001 and "StopLoss" in answer["retMsg"]
    assert (await bybit.call("GET", "/v5/order/history", linear))["list"] == []


async def test_limit_price_outside_the_band_is_refused_and_market_orders_carry_it(bybit, linear):
    last = await _last(bybit)
    answer = await _create(
        bybit,
        {**linear, "side": "Buy", "orderType": "Limit", "qty": "0.010", "price": str(last * 3)},
    )
    assert answer["retCode"] == 110003
    info = (
        await bybit.http.get(
            "/v5/market/instruments-info", params={"category": "linear", "symbol": "BTCUSDT"}
        )
    ).json()["result"]["list"][0]
    x = Decimal(info["riskParameters"]["priceLimitRatioX"])
    placed = await bybit.call(
        "POST", "/v5/order/create", {**linear, "side": "Buy", "orderType": "Market", "qty": "0.010"}
    )
    protection = Decimal((await _order(bybit, linear, placed["orderId"]))["price"])
    assert protection == (last * (1 + x) / Decimal("0.1")).to_integral_value(
        rounding="ROUND_FLOOR"
    ) * Decimal("0.1")


async def test_qty_zero_reduce_only_close_on_trigger_closes_the_whole_position(
    bybit, admin, linear
):
    await bybit.call(
        "POST", "/v5/order/create", {**linear, "side": "Buy", "orderType": "Market", "qty": "0.030"}
    )
    last = await _last(bybit)
    stop = await bybit.call(
        "POST",
        "/v5/order/create",
        {
            **linear,
            "side": "Sell",
            "orderType": "Market",
            "qty": "0",
            "reduceOnly": True,
            "closeOnTrigger": True,
            "triggerPrice": str(last - 200),
            "triggerDirection": 2,
        },
    )
    await bybit.call(
        "POST", "/v5/order/create", {**linear, "side": "Buy", "orderType": "Market", "qty": "0.020"}
    )
    await admin.set_price("BTCUSDT", str(last - 300))
    await admin.advance(ms=5_000)
    order = await _order(bybit, linear, stop["orderId"])
    assert order["orderStatus"] == "Filled" and order["cumExecQty"] == "0.050"
    position = (await bybit.call("GET", "/v5/position/list", linear))["list"][0]
    assert position["size"] == "0.000"


async def _vwap(bybit, linear, order_id: str) -> Decimal:
    fills = (await bybit.call("GET", "/v5/execution/list", {**linear, "orderId": order_id}))["list"]
    qty = sum(Decimal(f["execQty"]) for f in fills)
    return sum(Decimal(f["execQty"]) * Decimal(f["execPrice"]) for f in fills) / qty


async def _two_buys(bybit, linear) -> tuple[Decimal, Decimal]:
    vwaps = []
    for _ in range(2):
        placed = await bybit.call(
            "POST",
            "/v5/order/create",
            {**linear, "side": "Buy", "orderType": "Market", "qty": "2.000"},
        )
        vwaps.append(await _vwap(bybit, linear, placed["orderId"]))
    return vwaps[0], vwaps[1]


async def test_own_fills_consume_the_book_move_the_price_and_print_trades(
    server, bybit, admin, helpers, linear
):
    await admin.fund(server.exchange.default_account.uid, "200000")
    before = await _last(bybit)
    ws = await websockets.connect(server.ws_public_url, ssl=helpers.client_ssl(server.ca_file))
    try:
        await ws.send(json.dumps({"op": "subscribe", "args": ["publicTrade.BTCUSDT"]}))
        await helpers.recv_until(ws, lambda m: m.get("op") == "subscribe")
        first, second = await _two_buys(bybit, linear)
        printed = await helpers.recv_until(ws, lambda m: m.get("topic") == "publicTrade.BTCUSDT")
    finally:
        await ws.close()
    assert second > first  # the first buy took the best asks
    assert await _last(bybit) > before
    assert {t["S"] for t in printed["data"]} == {"Buy"}
    assert sum(Decimal(t["v"]) for t in printed["data"]) == Decimal("2.000")
    recent = (
        await bybit.http.get(
            "/v5/market/recent-trade",
            params={"category": "linear", "symbol": "BTCUSDT", "limit": 200},
        )
    ).json()["result"]["list"]
    mine = {e["execId"] for e in (await bybit.call("GET", "/v5/execution/list", linear))["list"]}
    assert len(recent) > 0 and Decimal(recent[0]["price"]) == await _last(bybit)
    assert not mine & {t["execId"] for t in recent}  # public ids are not the private ones


async def test_without_market_impact_the_same_buy_gets_the_same_price(tmp_path, helpers, linear):
    config = helpers.manual_config(tmp_path, market_impact=False, starting_balance=200000)
    async with ExchangeServer(config) as server:
        client = helpers.BybitClient(
            server.rest_url, server.ca_file, config.api_key, config.api_secret
        )
        try:
            first, second = await _two_buys(client, linear)
        finally:
            await client.aclose()
    assert first == second


async def test_orders_over_the_trade_websocket(server, bybit, helpers, linear):
    ws = await websockets.connect(server.ws_trade_url, ssl=helpers.client_ssl(server.ca_file))
    try:
        expires = int((time.time() + 10) * 1000)
        signature = helpers.hmac_hex(bybit.api_secret, f"GET/realtime{expires}")
        await ws.send(json.dumps({"op": "auth", "args": [bybit.api_key, expires, signature]}))
        assert json.loads(await ws.recv())["retCode"] == 0
        last = await _last(bybit)
        header = {"X-BAPI-TIMESTAMP": str(int(time.time() * 1000)), "X-BAPI-RECV-WINDOW": "5000"}
        await ws.send(
            json.dumps(
                {
                    "reqId": "r1",
                    "header": header,
                    "op": "order.create",
                    "args": [
                        {
                            **linear,
                            "side": "Buy",
                            "orderType": "Limit",
                            "qty": "0.010",
                            "price": str(last - 300),
                            "orderLinkId": "ws-1",
                        }
                    ],
                }
            )
        )
        created = json.loads(await ws.recv())
        assert (created["reqId"], created["retCode"], created["op"]) == ("r1", 0, "order.create")
        assert created["data"]["orderLinkId"] == "ws-1"
        assert "X-Bapi-Limit" in created["header"]
        await ws.send(
            json.dumps(
                {
                    "reqId": "r2",
                    "header": header,
                    "op": "order.cancel",
                    "args": [{**linear, "orderLinkId": "ws-1"}],
                }
            )
        )
        assert json.loads(await ws.recv())["retCode"] == 0
    finally:
        await ws.close()
    order = (await bybit.call("GET", "/v5/order/realtime", {**linear, "orderLinkId": "ws-1"}))[
        "list"
    ][0]
    assert order["orderStatus"] == "Cancelled"
