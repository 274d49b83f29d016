"""Trade records built from executions (fees, VWAP, PnL, MFE/MAE), and the reporter's
ordered, exactly-once delivery through the outbox."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import httpx

from backend.client import ClientError
from bot.bybit.convert import fill
from bot.outbox import Outbox
from bot.reporting import Reporter, json_safe
from bot.trade import OpenTrade
from bot.venue import Direction, Fill, FillKind, Side, Trigger

D = Decimal


def _fill(exec_id: str, side: Side, qty: str, price: str, fee: str, ms: int) -> Fill:
    return Fill(exec_id, "o", "x", "BTCUSDT", side, D(qty), D(price), D(fee), ms)


def test_a_long_trade_is_accounted_from_its_executions() -> None:
    trade = OpenTrade(1, Direction.LONG, 60_000, {"score": 1.0})
    trade.add_fill(_fill("a", Side.BUY, "0.010", "100.0", "0.0005", 60_000))
    trade.add_fill(_fill("b", Side.BUY, "0.010", "102.0", "0.0005", 60_001))
    trade.add_fill(_fill("b", Side.BUY, "0.010", "102.0", "0.0005", 60_001))  # a repeat
    trade.observe(D("105"), D("99"))
    assert not trade.closed and trade.open_qty == D("0.020")
    trade.add_fill(_fill("c", Side.SELL, "0.020", "104.0", "0.0011", 180_000))
    assert trade.closed
    report = trade.report("BTCUSDT")
    assert report["quantity"] == D("0.02") and report["entry_price"] == D("101")
    assert report["exit_price"] == D("104") and report["fees"] == D("0.0021")
    assert report["pnl"] == D("0.02") * 3 - D("0.0021")
    assert (report["mfe"], report["mae"]) == (D("0.08"), D("0.04"))
    assert report["entry_at"] < report["exit_at"]


def test_a_short_trade_profits_when_the_price_falls() -> None:
    trade = OpenTrade(2, Direction.SHORT, 0)
    trade.add_fill(_fill("a", Side.SELL, "1", "100", "0.1", 1))
    trade.observe(D("103"), D("95"))
    trade.add_fill(_fill("b", Side.BUY, "1", "97", "0.1", 2))
    assert trade.pnl == D("2.8")
    assert trade.best_price == D("95")
    assert trade.excursions() == (D("5"), D("3"))


def test_open_trade_survives_a_restart_on_disk(tmp_path) -> None:
    trade = OpenTrade(3, Direction.LONG, 0, {"s": 1})
    trade.add_fill(_fill("a", Side.BUY, "1", "100", "0.1", 1))
    trade.save(tmp_path / "t.json")
    assert OpenTrade.load(tmp_path / "t.json") == trade


def test_signal_state_is_made_json_safe() -> None:
    import numpy as np

    assert json_safe({"a": float("nan"), "b": np.float64(1.5), "c": [np.int64(2)]}) == {
        "a": None,
        "b": 1.5,
        "c": [2],
    }


async def test_reports_wait_while_the_backend_is_away_and_arrive_in_order_once(tmp_path) -> None:
    received: list[tuple[str, str]] = []
    up = False

    async def send(path: str, args: dict) -> None:
        if not up:
            raise httpx.ConnectError("backend down")
        if args["report_id"] == "event:poison":
            raise ClientError(400, {"code": "bad_request", "message": "no"})
        received.append((path, args["report_id"]))

    reporter = Reporter(Outbox(tmp_path / "o.sqlite"), send, "run")
    stop = asyncio.Event()
    task = asyncio.create_task(reporter.run(stop, retry_s=0.01))
    reporter.signal(60_000, {"x": 1})
    reporter.event("k", "poison", key="poison")
    reporter.equity(60_000, 120_000, D("10"), D("10"))
    reporter.signal(60_000, {"x": 1})  # the same report again: queued once
    await asyncio.sleep(0.05)
    assert received == [] and len(reporter.outbox) == 3
    up = True
    for _ in range(100):
        if not len(reporter.outbox):
            break
        await asyncio.sleep(0.01)
    stop.set()
    await task
    assert received == [
        ("bot:reportSignalState", "signal:60000"),
        ("bot:reportEquity", "equity:60000"),
    ]
    assert reporter.dropped == 1


def test_funding_paid_and_received_while_open_counts_in_the_trade_pnl() -> None:
    trade = OpenTrade(4, Direction.LONG, 0)
    trade.add_fill(_fill("a", Side.BUY, "1", "100", "0.1", 1))
    bybit = {"side": "Buy", "execQty": "1", "execPrice": "100", "execType": "Funding"}
    paid = fill({**bybit, "execId": "f1", "execFee": "0.05", "execTime": "2"})
    received = fill({**bybit, "execId": "f2", "execFee": "-0.02", "execTime": "3"})
    assert paid.kind is FillKind.FUNDING  # converted at the edge
    for f in (paid, received, paid):  # the repeat is ignored
        trade.add_funding(f)
    trade.add_fill(_fill("b", Side.SELL, "1", "103", "0.1", 4))
    assert trade.closed and trade.fees == D("0.23")
    assert trade.pnl == D("3") - D("0.2") - D("0.03")


def test_a_liquidation_fills_the_trade_and_says_so() -> None:
    bust = fill(
        {
            "execId": "l1",
            "side": "Sell",
            "execQty": "1",
            "execPrice": "90",
            "execFee": "0.5",
            "execTime": "5",
            "execType": "BustTrade",
        }
    )
    assert (bust.kind, bust.trigger) == (FillKind.TRADE, Trigger.LIQUIDATION)
