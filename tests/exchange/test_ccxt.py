"""Stock ccxt (bybit class, sync) against the local exchange with only the URL and the CA
changed: markets with keys, market data, account, every order kind, and the lists a trader
reads back (issue 18, "done when")."""

from __future__ import annotations

import importlib.util
from decimal import Decimal
from pathlib import Path

import ccxt
import pytest

from exchange.admin import SyncAdminClient
from exchange.config import ExchangeConfig
from exchange.testing import running_exchange

_spec = importlib.util.spec_from_file_location("clients", Path(__file__).with_name("clients.py"))
clients = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(clients)

SYMBOL = "BTC/USDT:USDT"


@pytest.fixture
def server(tmp_path):
    config = ExchangeConfig(
        clock="manual", ca_file=tmp_path / "ca.pem", history_candles=120, seed=11
    )
    with running_exchange(config) as running:
        yield running


@pytest.fixture
def bybit(server):
    client = clients.ccxt_bybit(server)
    client.load_markets()
    yield client
    client.session.close()


@pytest.fixture
def admin(server):
    return SyncAdminClient(server.admin_url, server.ca_file)


def test_load_markets_with_keys_and_market_data(server, bybit):
    market = bybit.market(SYMBOL)
    assert market["id"] == "BTCUSDT" and market["linear"] and market["swap"]
    assert market["precision"]["price"] == 0.1 and market["limits"]["amount"]["min"] == 0.001
    candles = bybit.fetch_ohlcv(SYMBOL, "1m", limit=5)
    assert len(candles) == 5
    assert [c[0] for c in candles] == sorted(c[0] for c in candles)
    assert all(low <= min(o, c) and high >= max(o, c) for _, o, high, low, c, _ in candles)
    book = bybit.fetch_order_book(SYMBOL, 5)
    assert book["bids"][0][0] < book["asks"][0][0] and len(book["bids"]) == 5
    ticker = bybit.fetch_ticker(SYMBOL)
    assert ticker["last"] == candles[-1][4]
    assert ticker["bid"] == book["bids"][0][0]
    trades = bybit.fetch_trades(SYMBOL, limit=7)
    assert len(trades) == 7 and trades[-1]["price"] > 0
    assert all(t["timestamp"] <= bybit.fetch_time() for t in trades)


def test_balance_leverage_positions_and_orders_round_trip(server, bybit, admin):
    assert bybit.fetch_balance()["USDT"]["total"] == 10000
    bybit.set_leverage(5, SYMBOL)
    bought = bybit.create_order(
        SYMBOL, "market", "buy", 0.01, None, {"clientOrderId": "ccxt-entry"}
    )
    entry = bybit.fetch_order(bought["id"], SYMBOL, {"acknowledged": True})
    assert entry["status"] == "closed" and entry["filled"] == 0.01
    assert entry["clientOrderId"] == "ccxt-entry"
    [position] = [p for p in bybit.fetch_positions([SYMBOL]) if p["contracts"]]
    assert position["side"] == "long" and position["contracts"] == 0.01
    assert position["leverage"] == 5
    assert position["liquidationPrice"] is None  # cross margin: 10,000 USDT backs 600 USDT
    assert position["entryPrice"] == pytest.approx(entry["average"])

    last = bybit.fetch_ticker(SYMBOL)["last"]
    resting = bybit.create_order(SYMBOL, "limit", "buy", 0.01, round(last * 0.99, 1))
    assert bybit.fetch_order(resting["id"], SYMBOL, {"acknowledged": True})["status"] == "open"
    amended = bybit.edit_order(resting["id"], SYMBOL, "limit", "buy", 0.02, round(last * 0.98, 1))
    listed = {o["id"]: o for o in bybit.fetch_open_orders(SYMBOL)}
    assert listed[amended["id"]]["amount"] == 0.02
    assert listed[amended["id"]]["price"] == round(last * 0.98, 1)
    bybit.cancel_order(resting["id"], SYMBOL)
    assert bybit.fetch_open_orders(SYMBOL) == []

    for offset in (0.97, 0.96):
        bybit.create_order(SYMBOL, "limit", "buy", 0.01, round(last * offset, 1))
    assert len(bybit.fetch_open_orders(SYMBOL)) == 2
    bybit.cancel_all_orders(SYMBOL)
    assert bybit.fetch_open_orders(SYMBOL) == []
    statuses = {o["status"] for o in bybit.fetch_closed_orders(SYMBOL)} | {
        o["status"] for o in bybit.fetch_canceled_orders(SYMBOL)
    }
    assert statuses == {"closed", "canceled"}

    admin.set_price("BTCUSDT", str(round(last * 1.004, 1)))
    admin.advance(ms=5_000)
    sold = bybit.create_order(SYMBOL, "market", "sell", 0.01, None, {"reduceOnly": True})
    assert [p for p in bybit.fetch_positions([SYMBOL]) if p["contracts"]] == []
    fills = bybit.fetch_my_trades(SYMBOL)
    exit_fills = [f for f in fills if f["order"] == sold["id"]]
    assert exit_fills and all(Decimal(f["info"]["execPnl"]) > 0 for f in exit_fills)
    closed = bybit.private_get_v5_position_closed_pnl({"category": "linear", "symbol": "BTCUSDT"})
    [record] = closed["result"]["list"]
    realised = sum(Decimal(f["info"]["execPnl"]) for f in exit_fills)
    fees = sum(Decimal(f["info"]["execFee"]) for f in fills)
    assert Decimal(record["closedPnl"]) == realised - fees
    wallet = Decimal(str(bybit.fetch_balance()["USDT"]["total"]))
    assert wallet == Decimal(10000) + realised - fees


def test_conditional_and_tp_sl_orders(server, bybit, admin):
    last = bybit.fetch_ticker(SYMBOL)["last"]
    trigger = round(last * 1.005, 1)
    stop = bybit.create_order(
        SYMBOL, "market", "buy", 0.01, None, {"triggerPrice": trigger, "triggerDirection": "above"}
    )
    waiting = bybit.fetch_open_orders(SYMBOL)
    assert [o["info"]["orderStatus"] for o in waiting] == ["Untriggered"]
    assert float(waiting[0]["info"]["triggerPrice"]) == trigger
    admin.advance(ms=5_000)
    assert bybit.fetch_open_orders(SYMBOL)[0]["id"] == stop["id"]
    admin.set_price("BTCUSDT", str(round(last * 1.006, 1)))
    admin.advance(ms=5_000)
    filled = bybit.fetch_order(stop["id"], SYMBOL, {"acknowledged": True})
    assert filled["status"] == "closed" and filled["filled"] == 0.01
    assert filled["average"] >= trigger

    now = bybit.fetch_ticker(SYMBOL)["last"]
    with pytest.raises(ccxt.BadRequest):
        bybit.create_order(
            SYMBOL,
            "market",
            "buy",
            0.01,
            None,
            {"takeProfit": {"triggerPrice": round(now * 0.99, 1)}},
        )
    guarded = bybit.create_order(
        SYMBOL,
        "market",
        "buy",
        0.01,
        None,
        {
            "clientOrderId": "with-tpsl",
            "takeProfit": {"triggerPrice": round(now * 1.02, 1)},
            "stopLoss": {"triggerPrice": round(now * 0.98, 1)},
        },
    )
    assert guarded["clientOrderId"] == "with-tpsl"
    [position] = [p for p in bybit.fetch_positions([SYMBOL]) if p["contracts"]]
    assert position["takeProfitPrice"] == round(now * 1.02, 1)
    assert position["stopLossPrice"] == round(now * 0.98, 1)
