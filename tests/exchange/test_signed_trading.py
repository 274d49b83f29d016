"""The issue's "done when" for trading: requests signed by the test itself (from Bybit's
docs), private pushes that agree with REST, and Bybit's refusal codes."""

from __future__ import annotations

import json
import time
from decimal import Decimal


async def test_market_order_pushes_execution_and_position_and_rest_agrees(
    server, bybit, helpers, linear
):
    ws = await helpers.open_private(
        server, bybit.api_key, bybit.api_secret, ["execution", "position", "order", "wallet"]
    )
    try:
        placed = await bybit.call(
            "POST",
            "/v5/order/create",
            {
                **linear,
                "side": "Buy",
                "orderType": "Market",
                "qty": "0.010",
                "orderLinkId": "entry-1",
            },
        )
        execution = await helpers.recv_until(ws, lambda m: m.get("topic") == "execution")
        position = await helpers.recv_until(ws, lambda m: m.get("topic") == "position")
    finally:
        await ws.close()
    fills = execution["data"]
    assert {f["orderId"] for f in fills} == {placed["orderId"]}
    assert sum(Decimal(f["execQty"]) for f in fills) == Decimal("0.010")
    assert all(f["orderLinkId"] == "entry-1" and not f["isMaker"] for f in fills)
    pushed = position["data"][0]
    assert (pushed["symbol"], pushed["side"], pushed["size"]) == ("BTCUSDT", "Buy", "0.010")

    listed = await bybit.call("GET", "/v5/execution/list", linear)
    assert sorted(e["execId"] for e in listed["list"]) == sorted(f["execId"] for f in fills)
    rest_position = (await bybit.call("GET", "/v5/position/list", linear))["list"][0]
    assert rest_position["size"] == pushed["size"]
    assert rest_position["avgPrice"] == pushed["avgPrice"]
    order = (await bybit.call("GET", "/v5/order/realtime", {**linear, "orderLinkId": "entry-1"}))[
        "list"
    ][0]
    assert order["orderStatus"] == "Filled" and order["cumExecQty"] == "0.010"
    fees = sum(Decimal(f["execFee"]) for f in fills)
    wallet = (await bybit.call("GET", "/v5/account/wallet-balance", {"accountType": "UNIFIED"}))[
        "list"
    ][0]
    assert Decimal(wallet["totalWalletBalance"]) == Decimal(10000) - fees


async def test_bad_signature_is_refused_with_10004(bybit, linear):
    response = await bybit.get("/v5/position/list", linear, secret="not-the-secret")
    assert response.json()["retCode"] == 10004


async def test_expired_timestamp_is_refused_with_10002(bybit, linear):
    stale = int(time.time() * 1000) - 60_000
    data = (await bybit.get("/v5/position/list", linear, timestamp=stale)).json()
    assert data["retCode"] == 10002
    assert "recv_window" in data["retMsg"]


async def test_timestamp_too_far_in_future_is_refused(bybit, linear):
    ahead = int(time.time() * 1000) + 5_000
    assert (await bybit.get("/v5/position/list", linear, timestamp=ahead)).json()[
        "retCode"
    ] == 10002


async def test_unknown_api_key_is_refused_with_10003(server, helpers, linear):
    stranger = helpers.BybitClient(server.rest_url, server.ca_file, "nobody", "secret")
    try:
        assert (await stranger.get("/v5/position/list", linear)).json()["retCode"] == 10003
    finally:
        await stranger.aclose()


async def test_signature_covers_the_raw_body(bybit, linear):
    body = json.dumps({**linear, "side": "Buy", "orderType": "Market", "qty": "0.001"})
    headers = bybit.headers(body)
    tampered = body.replace("0.001", "0.002")
    response = await bybit.http.post("/v5/order/create", content=tampered, headers=headers)
    assert response.json()["retCode"] == 10004


async def test_duplicate_order_link_id_is_refused(bybit, linear):
    order = {
        **linear,
        "side": "Buy",
        "orderType": "Limit",
        "qty": "0.001",
        "price": "30000",
        "orderLinkId": "same-id",
    }
    await bybit.call("POST", "/v5/order/create", order)
    again = (await bybit.post("/v5/order/create", order)).json()
    assert again["retCode"] == 110072


async def test_order_link_id_longer_than_36_characters_is_refused(bybit, linear):
    order = {
        **linear,
        "side": "Buy",
        "orderType": "Limit",
        "qty": "0.001",
        "price": "30000",
        "orderLinkId": "x" * 37,
    }
    assert (await bybit.post("/v5/order/create", order)).json()["retCode"] == 10001


async def test_eleventh_order_in_a_second_gets_10006_with_limit_headers(bybit, linear):
    order = {**linear, "side": "Buy", "orderType": "Limit", "qty": "0.001", "price": "30000"}
    answers = [await bybit.post("/v5/order/create", order) for _ in range(11)]
    codes = [a.json()["retCode"] for a in answers]
    assert codes[:10] == [0] * 10 and codes[10] == 10006
    last = answers[10].headers
    assert last["X-Bapi-Limit"] == "10"
    assert last["X-Bapi-Limit-Status"] == "0"
    assert int(last["X-Bapi-Limit-Reset-Timestamp"]) > int(time.time() * 1000) - 1000
    assert answers[0].headers["X-Bapi-Limit-Status"] == "9"


async def test_refusals_use_bybit_codes(bybit, linear):
    async def code(path: str, body: dict) -> int:
        return (await bybit.post(path, body)).json()["retCode"]

    market = {**linear, "side": "Buy", "orderType": "Market"}
    assert await code("/v5/order/create", {**market, "symbol": "DOGEUSDT", "qty": "1"}) == 10001
    assert await code("/v5/order/create", {**market, "qty": "0.0005"}) == 10001
    assert await code("/v5/order/create", {**market, "qty": "0.0015"}) == 10001
    assert await code("/v5/order/create", {**market, "qty": "100"}) == 110007
    assert await code("/v5/order/cancel", {**linear, "orderId": "no-such-order"}) == 110001
    assert await code("/v5/order/create", {**market, "qty": "0.001", "reduceOnly": True}) == 110017


async def test_rate_limits_are_per_uid(server, bybit, admin, helpers, linear):
    order = {**linear, "side": "Buy", "orderType": "Limit", "qty": "0.001", "price": "30000"}
    codes = [(await bybit.post("/v5/order/create", order)).json()["retCode"] for _ in range(11)]
    assert codes[-1] == 10006
    other = await admin.create_account()
    client = helpers.BybitClient(
        server.rest_url, server.ca_file, other["apiKey"], other["apiSecret"]
    )
    try:
        answer = await client.post("/v5/order/create", order)
        assert answer.json()["retCode"] == 0
        assert answer.headers["X-Bapi-Limit-Status"] == "9"
    finally:
        await client.aclose()
