"""Matching through the REST API on the manual clock: resting limit orders filled as maker
when the price trades through, partial fills, post-only and IOC, amend/cancel, reduce-only,
position TP/SL and trailing stops, leverage and margin."""

from __future__ import annotations

from decimal import Decimal


async def _last(bybit, symbol: str = "BTCUSDT") -> Decimal:
    answer = await bybit.http.get(
        "/v5/market/tickers", params={"category": "linear", "symbol": symbol}
    )
    return Decimal(answer.json()["result"]["list"][0]["lastPrice"])


async def _order(bybit, linear, order_id: str) -> dict:
    return (await bybit.call("GET", "/v5/order/realtime", {**linear, "orderId": order_id}))["list"][
        0
    ]


async def _position(bybit, linear) -> dict:
    return (await bybit.call("GET", "/v5/position/list", linear))["list"][0]


async def test_limit_order_rests_then_fills_as_maker_when_price_trades_through(
    bybit, admin, linear
):
    last = await _last(bybit)
    price = last - 200
    placed = await bybit.call(
        "POST",
        "/v5/order/create",
        {**linear, "side": "Buy", "orderType": "Limit", "qty": "0.010", "price": str(price)},
    )
    assert (await _order(bybit, linear, placed["orderId"]))["orderStatus"] == "New"
    await admin.set_price("BTCUSDT", price - 50)
    await admin.advance(ms=5_000)
    order = await _order(bybit, linear, placed["orderId"])
    assert order["orderStatus"] == "Filled" and Decimal(order["avgPrice"]) == price
    fill = (
        await bybit.call("GET", "/v5/execution/list", {**linear, "orderId": placed["orderId"]})
    )["list"][0]
    assert fill["isMaker"] is True and fill["feeRate"] == "0.0002"
    assert Decimal(fill["execFee"]) == Decimal("0.010") * price * Decimal("0.0002")


async def test_large_limit_order_fills_partially(server, bybit, admin, linear):
    await admin.fund(server.exchange.default_account.uid, "5000000")
    last = await _last(bybit)
    placed = await bybit.call(
        "POST",
        "/v5/order/create",
        {**linear, "side": "Buy", "orderType": "Limit", "qty": "500", "price": str(last - 100)},
    )
    await admin.set_price("BTCUSDT", last - 300)
    await admin.advance(ms=5_000)
    order = await _order(bybit, linear, placed["orderId"])
    assert order["orderStatus"] == "PartiallyFilled"
    assert Decimal(0) < Decimal(order["cumExecQty"]) < Decimal(500)
    assert Decimal(order["leavesQty"]) == Decimal(500) - Decimal(order["cumExecQty"])


async def test_market_order_walks_the_book_with_slippage(server, bybit, admin, linear):
    await admin.fund(server.exchange.default_account.uid, "5000000")
    book = (await bybit.http.get("/v5/market/orderbook", params={**linear, "limit": "1"})).json()[
        "result"
    ]
    best_ask = Decimal(book["a"][0][0])
    placed = await bybit.call(
        "POST", "/v5/order/create", {**linear, "side": "Buy", "orderType": "Market", "qty": "20"}
    )
    order = await _order(bybit, linear, placed["orderId"])
    assert order["orderStatus"] == "Filled"
    assert Decimal(order["avgPrice"]) > best_ask


async def test_post_only_that_would_take_is_cancelled_and_ioc_remainder_cancelled(bybit, linear):
    last = await _last(bybit)
    post = await bybit.call(
        "POST",
        "/v5/order/create",
        {
            **linear,
            "side": "Buy",
            "orderType": "Limit",
            "qty": "0.001",
            "price": str(last + 100),
            "timeInForce": "PostOnly",
        },
    )
    assert (await _order(bybit, linear, post["orderId"]))["orderStatus"] == "Cancelled"
    ioc = await bybit.call(
        "POST",
        "/v5/order/create",
        {
            **linear,
            "side": "Buy",
            "orderType": "Limit",
            "qty": "0.001",
            "price": str(last - 100),
            "timeInForce": "IOC",
        },
    )
    assert (await _order(bybit, linear, ioc["orderId"]))["orderStatus"] == "Cancelled"


async def test_amend_and_cancel_all(bybit, linear):
    last = await _last(bybit)
    placed = await bybit.call(
        "POST",
        "/v5/order/create",
        {**linear, "side": "Buy", "orderType": "Limit", "qty": "0.001", "price": str(last - 500)},
    )
    await bybit.call(
        "POST",
        "/v5/order/amend",
        {**linear, "orderId": placed["orderId"], "qty": "0.002", "price": str(last - 400)},
    )
    order = await _order(bybit, linear, placed["orderId"])
    assert (order["qty"], Decimal(order["price"])) == ("0.002", last - 400)
    cancelled = await bybit.call("POST", "/v5/order/cancel-all", linear)
    assert [c["orderId"] for c in cancelled["list"]] == [placed["orderId"]]
    assert (await bybit.call("GET", "/v5/order/realtime", linear))["list"] == []
    history = (await bybit.call("GET", "/v5/order/history", linear))["list"]
    assert history[0]["orderStatus"] == "Cancelled"


async def test_reduce_only_is_capped_at_the_position(bybit, linear):
    await bybit.call(
        "POST", "/v5/order/create", {**linear, "side": "Buy", "orderType": "Market", "qty": "0.005"}
    )
    closing = await bybit.call(
        "POST",
        "/v5/order/create",
        {**linear, "side": "Sell", "orderType": "Market", "qty": "0.010", "reduceOnly": True},
    )
    assert (await _order(bybit, linear, closing["orderId"]))["cumExecQty"] == "0.005"
    position = await _position(bybit, linear)
    assert position["size"] == "0" or Decimal(position["size"]) == 0
    assert Decimal(position["cumRealisedPnl"]) != 0


async def test_take_profit_triggers_on_the_price_path(bybit, admin, linear):
    await bybit.call(
        "POST", "/v5/order/create", {**linear, "side": "Buy", "orderType": "Market", "qty": "0.010"}
    )
    last = await _last(bybit)
    await bybit.call(
        "POST",
        "/v5/position/trading-stop",
        {**linear, "takeProfit": str(last + 300), "stopLoss": str(last - 300), "positionIdx": 0},
    )
    assert Decimal((await _position(bybit, linear))["takeProfit"]) == last + 300
    await admin.set_price("BTCUSDT", last + 400)
    await admin.advance(ms=5_000)
    assert Decimal((await _position(bybit, linear))["size"]) == 0
    fills = (await bybit.call("GET", "/v5/execution/list", linear))["list"]
    assert fills[0]["stopOrderType"] == "TakeProfit" and fills[0]["side"] == "Sell"
    wallet = (await bybit.call("GET", "/v5/account/wallet-balance", {"accountType": "UNIFIED"}))[
        "list"
    ][0]
    assert Decimal(wallet["totalWalletBalance"]) > Decimal(10000)


async def test_stop_loss_rejects_wrong_side_and_fires_on_a_drop(bybit, admin, linear):
    await bybit.call(
        "POST", "/v5/order/create", {**linear, "side": "Buy", "orderType": "Market", "qty": "0.010"}
    )
    last = await _last(bybit)
    wrong = (
        await bybit.post("/v5/position/trading-stop", {**linear, "stopLoss": str(last + 100)})
    ).json()
    assert wrong["retCode"] == 10001
    await bybit.call("POST", "/v5/position/trading-stop", {**linear, "stopLoss": str(last - 100)})
    await admin.set_price("BTCUSDT", last - 200)
    await admin.advance(ms=5_000)
    fills = (await bybit.call("GET", "/v5/execution/list", linear))["list"]
    assert fills[0]["stopOrderType"] == "StopLoss"
    assert Decimal((await _position(bybit, linear))["size"]) == 0


async def test_trailing_stop_follows_the_high_and_fires_on_the_pullback(bybit, admin, linear):
    await bybit.call(
        "POST", "/v5/order/create", {**linear, "side": "Buy", "orderType": "Market", "qty": "0.010"}
    )
    last = await _last(bybit)
    await bybit.call("POST", "/v5/position/trading-stop", {**linear, "trailingStop": "100"})
    await admin.set_price("BTCUSDT", last + 500)
    await admin.advance(ms=5_000)
    assert Decimal((await _position(bybit, linear))["size"]) == Decimal("0.010")
    await admin.set_price("BTCUSDT", last + 380)
    await admin.advance(ms=5_000)
    fills = (await bybit.call("GET", "/v5/execution/list", linear))["list"]
    assert fills[0]["stopOrderType"] == "TrailingStop"
    assert Decimal(fills[0]["execPrice"]) > last + 300


async def test_leverage_sets_margin_and_refuses_no_change(bybit, linear):
    await bybit.call(
        "POST", "/v5/position/set-leverage", {**linear, "buyLeverage": "5", "sellLeverage": "5"}
    )
    same = (
        await bybit.post(
            "/v5/position/set-leverage", {**linear, "buyLeverage": "5", "sellLeverage": "5"}
        )
    ).json()
    assert same["retCode"] == 110043
    await bybit.call(
        "POST", "/v5/order/create", {**linear, "side": "Buy", "orderType": "Market", "qty": "0.010"}
    )
    position = await _position(bybit, linear)
    assert position["leverage"] == "5"
    expected = Decimal(position["size"]) * Decimal(position["avgPrice"]) / 5
    assert Decimal(position["positionIM"]) == expected
    wallet = (await bybit.call("GET", "/v5/account/wallet-balance", {"accountType": "UNIFIED"}))[
        "list"
    ][0]
    assert Decimal(wallet["coin"][0]["totalPositionIM"]) == expected


async def test_new_account_has_its_own_uid_and_balance(server, admin, helpers, linear):
    created = await admin.create_account(balance="250")
    assert created["uid"] != server.exchange.default_account.uid
    client = helpers.BybitClient(
        server.rest_url, server.ca_file, created["apiKey"], created["apiSecret"]
    )
    try:
        wallet = (
            await client.call("GET", "/v5/account/wallet-balance", {"accountType": "UNIFIED"})
        )["list"][0]
        assert Decimal(wallet["totalWalletBalance"]) == 250
        too_big = (
            await client.post(
                "/v5/order/create", {**linear, "side": "Buy", "orderType": "Market", "qty": "0.1"}
            )
        ).json()
        assert too_big["retCode"] == 110007
    finally:
        await client.aclose()
