"""Public market data over REST and /v5/public/linear: shapes, candle close confirmation,
book snapshot + deltas consistent with REST, tickers, instruments, ping, and CSV replay."""

from __future__ import annotations

import json
from decimal import Decimal

import websockets

from exchange.server import ExchangeServer


async def _public(server, helpers, *topics):
    ws = await websockets.connect(server.ws_public_url, ssl=helpers.client_ssl(server.ca_file))
    await ws.send(json.dumps({"op": "subscribe", "args": list(topics)}))
    assert json.loads(await ws.recv())["success"] is True
    return ws


async def _get(server_client, path: str, **params) -> dict:
    answer = (await server_client.http.get(path, params=params)).json()
    assert answer["retCode"] == 0, answer
    return answer["result"]


async def test_kline_confirms_the_candle_when_its_minute_ends(server, bybit, admin, helpers):
    ws = await _public(server, helpers, "kline.1.BTCUSDT")
    try:
        start = (await admin.state())["clock"]["now"]
        await admin.advance(ms=60_000)
        closed = await helpers.recv_until(ws, lambda m: m["data"][0]["confirm"] is True)
    finally:
        await ws.close()
    candle = closed["data"][0]
    assert (candle["start"], candle["end"], candle["interval"]) == (start, start + 59_999, "1")
    rows = (
        await _get(
            bybit,
            "/v5/market/kline",
            category="linear",
            symbol="BTCUSDT",
            interval="1",
            start=str(start),
            end=str(start),
        )
    )["list"]
    assert rows[0][:5] == [
        str(start),
        candle["open"],
        candle["high"],
        candle["low"],
        candle["close"],
    ]


async def test_kline_history_is_newest_first_with_bybit_rows(bybit):
    rows = (
        await _get(
            bybit, "/v5/market/kline", category="linear", symbol="ETHUSDT", interval="5", limit="10"
        )
    )["list"]
    assert len(rows) == 10 and all(len(r) == 7 for r in rows)
    starts = [int(r[0]) for r in rows]
    assert starts == sorted(starts, reverse=True) and starts[0] - starts[1] == 300_000
    for _, o, h, low, c, v, _ in rows:
        assert (
            Decimal(low) <= min(Decimal(o), Decimal(c)) <= max(Decimal(o), Decimal(c)) <= Decimal(h)
        )


async def test_book_snapshot_plus_deltas_equals_the_rest_book(server, bybit, admin, helpers):
    ws = await _public(server, helpers, "orderbook.50.BTCUSDT")
    try:
        snapshot = json.loads(await ws.recv())
        assert snapshot["type"] == "snapshot"
        book = {side: {p: q for p, q in snapshot["data"][side]} for side in ("b", "a")}
        await admin.advance(ms=30_000)
        for _ in range(6):
            delta = await helpers.recv_until(ws, lambda m: m["type"] == "delta")
            for side in ("b", "a"):
                for price, qty in delta["data"][side]:
                    if Decimal(qty) == 0:
                        book[side].pop(price, None)
                    else:
                        book[side][price] = qty
    finally:
        await ws.close()
    rest = await _get(
        bybit, "/v5/market/orderbook", category="linear", symbol="BTCUSDT", limit="50"
    )
    assert sorted(book["b"].items(), key=lambda kv: -Decimal(kv[0])) == [
        tuple(x) for x in rest["b"]
    ]
    assert sorted(book["a"].items(), key=lambda kv: Decimal(kv[0])) == [tuple(x) for x in rest["a"]]
    assert Decimal(rest["b"][0][0]) < Decimal(rest["a"][0][0])


async def test_trades_and_tickers_follow_the_price(server, bybit, admin, helpers):
    ws = await _public(server, helpers, "publicTrade.BTCUSDT", "tickers.BTCUSDT")
    try:
        first = await helpers.recv_until(ws, lambda m: m["topic"].startswith("tickers"))
        assert first["type"] == "snapshot"
        await admin.advance(ms=5_000)
        trades = await helpers.recv_until(ws, lambda m: m["topic"].startswith("publicTrade"))
        ticker = await helpers.recv_until(ws, lambda m: m["topic"].startswith("tickers"))
    finally:
        await ws.close()
    assert trades["data"][-1]["p"] == ticker["data"]["lastPrice"]
    assert {t["S"] for t in trades["data"]} <= {"Buy", "Sell"}
    rest = (await _get(bybit, "/v5/market/tickers", category="linear", symbol="BTCUSDT"))["list"][0]
    assert rest["lastPrice"] == ticker["data"]["lastPrice"]
    assert Decimal(rest["bid1Price"]) < Decimal(rest["ask1Price"])


async def test_instruments_info_for_every_category_cryptofeed_asks(bybit):
    linear = await _get(bybit, "/v5/market/instruments-info", category="linear")
    btc = next(i for i in linear["list"] if i["symbol"] == "BTCUSDT")
    assert btc["contractType"] == "LinearPerpetual"
    assert btc["priceFilter"]["tickSize"] == "0.10"
    assert btc["lotSizeFilter"]["qtyStep"] == "0.001"
    for category in ("inverse", "spot"):
        assert (await _get(bybit, "/v5/market/instruments-info", category=category))["list"] == []


async def test_ping_gets_pong_on_both_sockets(server, bybit, helpers):
    public = await _public(server, helpers, "tickers.ETHUSDT")
    private = await helpers.open_private(server, bybit.api_key, bybit.api_secret, ["order"])
    try:
        await public.send(json.dumps({"op": "ping", "req_id": "p1"}))
        pong = await helpers.recv_until(public, lambda m: m.get("op") == "ping")
        assert (pong["ret_msg"], pong["req_id"]) == ("pong", "p1")
        await private.send(json.dumps({"op": "ping", "req_id": "p2"}))
        pong = await helpers.recv_until(private, lambda m: m.get("op") == "pong")
        assert pong["req_id"] == "p2"
    finally:
        await public.close()
        await private.close()


async def test_private_auth_with_a_bad_signature_is_refused(server, helpers):
    ws = await websockets.connect(server.ws_private_url, ssl=helpers.client_ssl(server.ca_file))
    try:
        await ws.send(
            json.dumps({"op": "auth", "args": [server.config.api_key, 99999999999999, "00"]})
        )
        assert json.loads(await ws.recv())["success"] is False
        await ws.send(json.dumps({"op": "subscribe", "args": ["order"]}))
        assert json.loads(await ws.recv())["ret_msg"] == "Request not authorized"
    finally:
        await ws.close()


async def test_csv_candles_are_replayed(tmp_path, helpers):
    path = tmp_path / "btc.csv"
    origin = 1_650_000_000_000 - 1_650_000_000_000 % 60_000
    rows = []
    price = Decimal("40000.0")
    for i in range(150):
        o, c = price, price + Decimal((i % 7) - 3) * 10
        rows.append((origin + i * 60_000, o, max(o, c) + 25, min(o, c) - 25, c, Decimal("12.5")))
        price = c
    path.write_text(
        "open_time_ms,open,high,low,close,volume\n"
        + "".join(",".join(str(x) for x in r) + "\n" for r in rows)
    )
    config = helpers.manual_config(tmp_path, candles={"BTCUSDT": path}, history_candles=100)
    async with ExchangeServer(config) as server:
        client = helpers.BybitClient(server.rest_url, server.ca_file, "k", "s")
        try:
            got = (
                await _get(
                    client,
                    "/v5/market/kline",
                    category="linear",
                    symbol="BTCUSDT",
                    interval="1",
                    start=str(origin),
                    end=str(origin + 99 * 60_000),
                    limit="1000",
                )
            )["list"]
        finally:
            await client.aclose()
    assert len(got) == 100
    by_start = {int(r[0]): r for r in got}
    for start, o, h, low, c, _ in rows[:100]:
        assert [Decimal(x) for x in by_start[start][1:5]] == [o, h, low, c]
