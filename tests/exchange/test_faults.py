"""Done when (faults): a dropped socket can be reconnected and resubscribed; a lost private
message is still visible through REST. Also 5xx answers, timeouts after the order was placed,
delayed messages and a paused market."""

from __future__ import annotations

import asyncio
import json
import time

import httpx
import websockets


async def _subscribe_public(server, helpers, topic: str):
    ws = await websockets.connect(server.ws_public_url, ssl=helpers.client_ssl(server.ca_file))
    await ws.send(json.dumps({"op": "subscribe", "args": [topic], "req_id": "r1"}))
    ack = json.loads(await ws.recv())
    assert ack["success"] is True and ack["req_id"] == "r1"
    return ws


async def test_dropped_public_socket_can_reconnect_and_resubscribe(server, admin, helpers):
    ws = await _subscribe_public(server, helpers, "publicTrade.BTCUSDT")
    assert (await admin.drop_ws("public"))["dropped"] == 1
    try:
        await asyncio.wait_for(ws.recv(), timeout=5)
        raise AssertionError("the socket should have been closed")
    except websockets.ConnectionClosed:
        pass
    ws = await _subscribe_public(server, helpers, "publicTrade.BTCUSDT")
    try:
        await admin.advance(ms=10_000)
        message = await helpers.recv_until(ws, lambda m: m.get("topic") == "publicTrade.BTCUSDT")
        assert message["data"][0]["s"] == "BTCUSDT"
    finally:
        await ws.close()


async def test_lost_execution_message_is_still_visible_through_rest(
    server, bybit, admin, helpers, linear
):
    ws = await helpers.open_private(server, bybit.api_key, bybit.api_secret, ["execution", "order"])
    try:
        await admin.lose("execution", count=1)
        placed = await bybit.call(
            "POST",
            "/v5/order/create",
            {**linear, "side": "Buy", "orderType": "Market", "qty": "0.002"},
        )
        order_push = await helpers.recv_until(ws, lambda m: m.get("topic") == "order")
        assert order_push["data"][0]["orderId"] == placed["orderId"]
        second = await bybit.call(
            "POST",
            "/v5/order/create",
            {**linear, "side": "Buy", "orderType": "Market", "qty": "0.001"},
        )
        pushed = await helpers.recv_until(ws, lambda m: m.get("topic") == "execution")
        assert {e["orderId"] for e in pushed["data"]} == {second["orderId"]}
    finally:
        await ws.close()
    listed = await bybit.call("GET", "/v5/execution/list", {**linear, "orderId": placed["orderId"]})
    assert listed["list"] and listed["list"][0]["orderId"] == placed["orderId"]


async def test_rest_error_fault_answers_503_then_recovers(bybit, admin, linear):
    await admin.set_faults(rest_error_next=2)
    first = await bybit.get("/v5/position/list", linear)
    second = await bybit.get("/v5/position/list", linear)
    third = await bybit.get("/v5/position/list", linear)
    assert (first.status_code, second.status_code, third.status_code) == (503, 503, 200)


async def test_fraction_of_calls_answered_5xx(bybit, admin, linear):
    await admin.set_faults(rest_error_rate=0.5)
    statuses = [(await bybit.get("/v5/account/fee-rate", linear)).status_code for _ in range(10)]
    assert 503 in statuses and 200 in statuses


async def test_timeout_after_the_order_was_placed(bybit, admin, linear):
    await admin.set_faults(rest_timeout_after_next=1, timeout_seconds=2)
    order = {
        **linear,
        "side": "Buy",
        "orderType": "Limit",
        "qty": "0.001",
        "price": "30000",
        "orderLinkId": "retry-me",
    }
    try:
        await bybit.http.post(
            "/v5/order/create",
            content=json.dumps(order),
            headers=bybit.headers(json.dumps(order)),
            timeout=0.5,
        )
        raise AssertionError("the call should have timed out")
    except httpx.ReadTimeout:
        pass
    found = await bybit.call("GET", "/v5/order/realtime", {**linear, "orderLinkId": "retry-me"})
    assert found["list"][0]["orderStatus"] == "New"
    retry = (await bybit.post("/v5/order/create", order)).json()
    assert retry["retCode"] == 110072


async def test_message_delay_fault_delays_pushes(server, admin, helpers):
    ws = await _subscribe_public(server, helpers, "publicTrade.ETHUSDT")
    try:
        await admin.set_faults(ws_delay_ms=400)
        started = time.monotonic()
        await admin.advance(ms=5_000)
        await helpers.recv_until(ws, lambda m: m.get("topic") == "publicTrade.ETHUSDT")
        assert time.monotonic() - started >= 0.4
    finally:
        await ws.close()


async def test_paused_market_stops_moving(bybit, admin):
    async def last_price() -> str:
        answer = await bybit.http.get(
            "/v5/market/tickers", params={"category": "linear", "symbol": "BTCUSDT"}
        )
        return answer.json()["result"]["list"][0]["lastPrice"]

    await admin.pause(True)
    before = await last_price()
    await admin.advance(ms=600_000)
    assert await last_price() == before
    await admin.pause(False)
    await admin.advance(ms=600_000)
    assert await last_price() != before


async def test_dropped_private_socket_can_reauthenticate_and_resubscribe(
    server, bybit, admin, helpers, linear
):
    ws = await helpers.open_private(server, bybit.api_key, bybit.api_secret, ["order"])
    assert (await admin.drop_ws("private"))["dropped"] == 1
    try:
        await asyncio.wait_for(ws.recv(), timeout=5)
        raise AssertionError("the socket should have been closed")
    except websockets.ConnectionClosed:
        pass
    ws = await helpers.open_private(server, bybit.api_key, bybit.api_secret, ["order"])
    try:
        placed = await bybit.call(
            "POST",
            "/v5/order/create",
            {**linear, "side": "Buy", "orderType": "Limit", "qty": "0.001", "price": "30000"},
        )
        pushed = await helpers.recv_until(ws, lambda m: m.get("topic") == "order")
        assert pushed["data"][0]["orderId"] == placed["orderId"]
    finally:
        await ws.close()
