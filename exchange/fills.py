"""Booking one fill: fee, position, wallet, the execution record (the shape of REST
execution/list and of the private `execution` topic) and the closed-PnL record of the order
when the fill closed some of the position (REST position/closed-pnl).

Bybit V5: "Get Trade History" (https://bybit-exchange.github.io/docs/v5/order/execution)
and "Get Closed PnL" (https://bybit-exchange.github.io/docs/v5/position/close-pnl).
`execPnl` is the PnL the fill realised before fees (closed-PnL records: exchange.closed_pnl).
"""

from __future__ import annotations

from decimal import Decimal

from exchange.accounts import Account
from exchange.closed_pnl import ClosedPnl
from exchange.numbers import ZERO, fmt, fmt_step, money
from exchange.orders import Order
from exchange.positions import FillEffect

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
    exec_type: str = "Trade",
) -> dict:
    """Apply a fill of `qty` at `price` to the account; returns the execution record."""
    spec = order.spec
    rate = (
        ZERO if exec_type == "BustTrade" else account.maker_fee if is_maker else account.taker_fee
    )
    value = qty * price
    fee = (value * rate).quantize(FEE_QUANT)
    position = account.position(spec)
    leverage = position.leverage
    effect = position.apply_fill(order.side, qty, price, ts, fee)
    account.wallet += effect.realised - fee
    account.cum_realised += effect.realised - fee
    order.cum_exec_qty += qty
    order.cum_exec_value += value
    order.cum_exec_fee += fee
    order.updated = ts
    order.status = "Filled" if order.cum_exec_qty >= order.qty else "PartiallyFilled"
    has_stops = order.take_profit is not None or order.stop_loss is not None
    if has_stops and position.size != 0 and position.side == order.side:
        position.take_profit = order.take_profit or position.take_profit
        position.stop_loss = order.stop_loss or position.stop_loss
    if effect.closed:
        _closed_pnl(account, order, effect, price, fee * effect.closed / qty, leverage, ts)
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
        "execType": exec_type,
        "execValue": money(value),
        "execTime": str(ts),
        "execPnl": money(effect.realised),
        "feeCurrency": "",
        "isMaker": is_maker,
        "feeRate": fmt(rate),
        "tradeIv": "",
        "markIv": "",
        "markPrice": fmt_step(mark, spec.tick_size),
        "indexPrice": fmt_step(mark, spec.tick_size),
        "underlyingPrice": "",
        "blockTradeId": "",
        "closedSize": fmt_step(effect.closed, spec.qty_step),
        "extraFees": "",
        "seq": position.seq,
        "category": "linear",
        "isLeverage": "",
    }
    account.executions.append(record)
    return record


def _closed_pnl(
    account: Account,
    order: Order,
    effect: FillEffect,
    price: Decimal,
    close_fee: Decimal,
    leverage: Decimal,
    ts: int,
) -> None:
    """Add the closed part of a fill to its order's closed-PnL record (one per order)."""
    entry_price = price - effect.realised / effect.closed * (1 if order.side == "Sell" else -1)
    last = account.closed_pnl[-1] if account.closed_pnl else None
    if last is None or last.order_id != order.order_id:
        last = ClosedPnl(
            order.spec,
            order.order_id,
            order.side,
            order.order_type,
            order.price,
            order.qty,
            leverage,
            ts,
        )
        account.closed_pnl.append(last)
    last.add(effect.closed, entry_price, price, effect.realised, effect.open_fee, close_fee, ts)
