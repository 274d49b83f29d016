"""Booking one fill: fee, position, wallet and the execution record (the shape of REST
execution/list and of the private `execution` topic)."""

from __future__ import annotations

from decimal import Decimal

from exchange.accounts import Account
from exchange.numbers import fmt, fmt_step
from exchange.orders import Order

FEE_QUANT = Decimal("0.00000001")


def book_fill(
    account: Account,
    order: Order,
    qty: Decimal,
    price: Decimal,
    is_maker: bool,
    ts: int,
    exec_id: str,
    mark: Decimal,
) -> dict:
    """Apply a fill of `qty` at `price` to the account; returns the execution record."""
    spec = order.spec
    rate = account.maker_fee if is_maker else account.taker_fee
    value = qty * price
    fee = (value * rate).quantize(FEE_QUANT)
    position = account.position(spec)
    closed = min(qty, position.closing_qty(order.side))
    realised = position.apply_fill(order.side, qty, price, ts)
    account.wallet += realised - fee
    account.cum_realised += realised
    position.cur_realised -= fee
    position.cum_realised -= fee
    order.cum_exec_qty += qty
    order.cum_exec_value += value
    order.cum_exec_fee += fee
    order.updated = ts
    order.status = "Filled" if order.cum_exec_qty >= order.qty else "PartiallyFilled"
    has_stops = order.take_profit is not None or order.stop_loss is not None
    if has_stops and position.size != 0 and position.side == order.side:
        position.take_profit = order.take_profit or position.take_profit
        position.stop_loss = order.stop_loss or position.stop_loss
    record = {
        "symbol": spec.symbol,
        "orderId": order.order_id,
        "orderLinkId": order.order_link_id,
        "side": order.side,
        "orderPrice": fmt_step(order.price, spec.tick_size) if order.price else "0",
        "orderQty": fmt_step(order.qty, spec.qty_step),
        "leavesQty": fmt_step(order.qty - order.cum_exec_qty, spec.qty_step),
        "createType": order.create_type,
        "orderType": order.order_type,
        "stopOrderType": order.stop_order_type,
        "execFee": fmt(fee),
        "execId": exec_id,
        "execPrice": fmt_step(price, spec.tick_size),
        "execQty": fmt_step(qty, spec.qty_step),
        "execType": "Trade",
        "execValue": fmt(value),
        "execTime": str(ts),
        "feeCurrency": "",
        "isMaker": is_maker,
        "feeRate": fmt(rate),
        "tradeIv": "",
        "markIv": "",
        "markPrice": fmt_step(mark, spec.tick_size),
        "indexPrice": fmt_step(mark, spec.tick_size),
        "underlyingPrice": "",
        "blockTradeId": "",
        "closedSize": fmt_step(closed, spec.qty_step),
        "extraFees": "",
        "seq": position.seq,
        "category": "linear",
        "isLeverage": "",
    }
    account.executions.append(record)
    return record
