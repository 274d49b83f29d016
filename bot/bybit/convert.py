"""Bybit V5 JSON → the bot's neutral types (`bot.venue`), and back for the few values sent.

The only place outside `bot.bybit`'s clients that knows Bybit's field names: order and
execution rows (REST lists and the private stream share them), position rows, wallet rows,
instruments-info rows, and the private stream's envelope (``topic``/``data``).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from bot.instrument import Instrument
from bot.venue import (
    AccountUpdate,
    Direction,
    Fill,
    FillKind,
    Order,
    OrderStatus,
    Position,
    Side,
    Trigger,
)

Row = dict[str, Any]

SIDES = {"Buy": Side.BUY, "Sell": Side.SELL}
STATUSES = {
    "Created": OrderStatus.NEW,
    "New": OrderStatus.NEW,
    "Active": OrderStatus.NEW,
    "Triggered": OrderStatus.NEW,
    "PartiallyFilled": OrderStatus.PARTIALLY_FILLED,
    "Untriggered": OrderStatus.UNTRIGGERED,
    "Filled": OrderStatus.FILLED,
    "Cancelled": OrderStatus.CANCELLED,
    "PartiallyFilledCanceled": OrderStatus.CANCELLED,
    "Deactivated": OrderStatus.CANCELLED,
    "Rejected": OrderStatus.REJECTED,
}
TRIGGERS = {
    "StopLoss": Trigger.STOP_LOSS,
    "PartialStopLoss": Trigger.STOP_LOSS,
    "TakeProfit": Trigger.TAKE_PROFIT,
    "PartialTakeProfit": Trigger.TAKE_PROFIT,
    "TrailingStop": Trigger.TRAILING_STOP,
}


def side_name(side: Side) -> str:
    """Bybit's spelling of a side ("Buy"/"Sell")."""
    return "Buy" if side is Side.BUY else "Sell"


def _dec(value: Any) -> Decimal:
    return Decimal(value) if value not in (None, "") else Decimal(0)


def order(row: Row) -> Order:
    return Order(
        order_id=str(row.get("orderId", "")),
        link_id=str(row.get("orderLinkId", "")),
        side=SIDES[row["side"]],
        qty=_dec(row.get("qty")),
        status=STATUSES.get(row.get("orderStatus") or "New", OrderStatus.NEW),
        filled_qty=_dec(row.get("cumExecQty")),
        avg_price=_dec(row.get("avgPrice")),
        created_ms=int(row.get("createdTime") or 0),
    )


# execTypes the bot accounts: trades, a liquidation's trade (BustTrade), funding payments
FILL_KINDS = {"Trade": FillKind.TRADE, "BustTrade": FillKind.TRADE, "Funding": FillKind.FUNDING}


def is_fill(row: Row) -> bool:
    """An execution the bot accounts (not a delivery, settlement or ADL notice)."""
    return row.get("execType", "Trade") in FILL_KINDS


def fill(row: Row) -> Fill:
    exec_type = row.get("execType", "Trade")
    trigger = TRIGGERS.get(row.get("stopOrderType") or "", Trigger.NONE)
    return Fill(
        exec_id=str(row["execId"]),
        order_id=str(row.get("orderId", "")),
        link_id=str(row.get("orderLinkId", "")),
        symbol=str(row.get("symbol", "")),
        side=SIDES[row["side"]],
        qty=_dec(row["execQty"]),
        price=_dec(row["execPrice"]),
        fee=_dec(row.get("execFee")),
        time_ms=int(row.get("execTime") or 0),
        leaves_qty=_dec(row.get("leavesQty")),
        trigger=Trigger.LIQUIDATION if exec_type == "BustTrade" else trigger,
        kind=FILL_KINDS[exec_type],
    )


def position(row: Row) -> Position:
    size = _dec(row.get("size"))
    side = SIDES.get(row.get("side") or "")
    return Position(
        direction=Direction.of_entry(side) if size and side is not None else None,
        size=size,
        avg_price=_dec(row.get("avgPrice") or row.get("entryPrice")),
        take_profit=_dec(row.get("takeProfit")),
        stop_loss=_dec(row.get("stopLoss")),
        updated_ms=int(row.get("updatedTime") or 0),
        leverage=_dec(row.get("leverage")),
    )


def wallet_balance(rows: list[Row]) -> Decimal | None:
    """The unified account's total wallet balance (None when the rows do not say)."""
    value = rows[0].get("totalWalletBalance") if rows else None
    return Decimal(value) if value not in (None, "") else None


def account_update(msg: Row) -> AccountUpdate:
    """One private-stream message (order, execution, position or wallet topic)."""
    topic, rows = msg.get("topic", ""), msg.get("data") or []
    update = AccountUpdate()
    if topic == "wallet":
        update.wallet_balance = wallet_balance(rows)
    elif topic == "order":
        update.orders = [(str(r.get("symbol", "")), order(r)) for r in rows]
    elif topic == "position":
        update.positions = [(str(r.get("symbol", "")), position(r)) for r in rows]
    elif topic == "execution":
        update.fills = [fill(r) for r in rows if is_fill(r)]
    return update


def instrument(item: Row) -> Instrument:
    """An instrument from one entry of market/instruments-info ``result.list``."""
    lot, price = item["lotSizeFilter"], item["priceFilter"]
    max_qty = Decimal(lot["maxOrderQty"])
    return Instrument(
        symbol=item["symbol"],
        tick_size=Decimal(price["tickSize"]),
        qty_step=Decimal(lot["qtyStep"]),
        min_qty=Decimal(lot["minOrderQty"]),
        max_qty=max_qty,
        max_market_qty=Decimal(lot.get("maxMktOrderQty") or max_qty),
        min_notional=Decimal(lot.get("minNotionalValue") or 0),
    )
