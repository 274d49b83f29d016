"""The matching engine: order placement, amendment and cancellation, taker fills against the
synthetic book (with slippage), maker fills of resting limit orders when the price trades
through them, and position TP/SL/trailing-stop triggers. Every change is pushed to the
account's private streams through `emit(uid, topic, data)`.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from exchange import triggers
from exchange.accounts import Account, Accounts
from exchange.errors import ApiError, params_error
from exchange.fills import book_fill
from exchange.ids import IdSource
from exchange.market.symbol import StepResult, SymbolMarket
from exchange.numbers import ZERO, parse_decimal
from exchange.orders import Order, OrderRequest, check_price, check_qty

Emit = Callable[[int, str, list[dict]], None]
CREATE_TYPES = {
    "TakeProfit": "CreateByTakeProfit",
    "StopLoss": "CreateByStopLoss",
    "TrailingStop": "CreateByTrailingStop",
}


class Matching:
    """Owns every order state change of every account."""

    def __init__(
        self,
        markets: dict[str, SymbolMarket],
        accounts: Accounts,
        ids: IdSource,
        now: Callable[[], int],
        emit: Emit,
    ) -> None:
        self._markets = markets
        self._accounts = accounts
        self._ids = ids
        self._now = now
        self._emit = emit

    def mark(self, symbol: str) -> Decimal:
        return self._markets[symbol].last_price

    # -- requests -------------------------------------------------------------------------

    def place(
        self,
        account: Account,
        symbol: str,
        req: OrderRequest,
        create_type: str = "CreateByUser",
        stop_order_type: str = "",
    ) -> Order:
        market = self._markets[symbol]
        spec = market.spec
        if req.order_link_id and req.order_link_id in account.link_ids:
            raise ApiError(110072, "OrderLinkedID is duplicate")
        position = account.position(spec)
        closing = position.closing_qty(req.side)
        qty = req.qty
        (bid, _), (ask, _) = market.book.best()
        ref = req.price if req.order_type == "Limit" else (ask if req.side == "Buy" else bid)
        if req.reduce_only:
            if closing == 0:
                raise ApiError(110017, "Reduce-only rule not satisfied")
            qty = min(qty, closing)
        else:
            if qty * ref < spec.min_notional and closing < qty:
                raise ApiError(
                    110094, f"Order does not meet minimum order value {spec.min_notional}USDT"
                )
            opening = qty - min(qty, closing)
            cost = opening * ref / position.leverage + qty * ref * account.taker_fee
            if cost > account.available(self.mark):
                raise ApiError(110007, "ab not enough for new order")
        now = self._now()
        order = Order(
            self._ids.next_uuid(),
            req.order_link_id,
            account.uid,
            spec,
            req.side,
            req.order_type,
            qty,
            req.price,
            req.time_in_force,
            req.reduce_only,
            now,
            market.last_price,
            req.take_profit,
            req.stop_loss,
            req.close_on_trigger,
            stop_order_type,
            create_type,
        )
        account.orders[order.order_id] = order
        if order.order_link_id:
            account.link_ids[order.order_link_id] = order.order_id
        execs = self._take(account, order)
        self._publish(account, [order], execs)
        return order

    def _take(self, account: Account, order: Order) -> list[dict]:
        """Execute the marketable part of an order as taker; settle what remains."""
        market = self._markets[order.symbol]
        limit = order.price if order.order_type == "Limit" else None
        fills = market.book.walk(order.side, order.leaves_qty, limit)
        fillable = sum((q for _, q in fills), ZERO)
        if order.order_type == "Limit" and fills and order.time_in_force == "PostOnly":
            return self._finish(order, "Cancelled", "EC_PostOnlyWillTakeLiquidity")
        if order.time_in_force == "FOK" and fillable < order.leaves_qty:
            return self._finish(order, "Cancelled", "EC_FOKCanNotFill")
        now = self._now()
        execs = [
            book_fill(account, order, q, p, False, now, self._ids.next_uuid(), market.last_price)
            for p, q in fills
        ]
        if order.leaves_qty > 0 and order.time_in_force in ("IOC", "FOK"):
            status = "PartiallyFilledCanceled" if order.cum_exec_qty else "Cancelled"
            self._finish(order, status, "EC_CancelForNoFullFill")
        return execs

    @staticmethod
    def _finish(order: Order, status: str, reason: str) -> list[dict]:
        order.status = status
        order.reject_reason = reason
        order.cancel_type = "UNKNOWN"
        return []

    def _find(self, account: Account, params: dict) -> Order:
        order_id = params.get("orderId") or account.link_ids.get(params.get("orderLinkId") or "")
        order = account.orders.get(order_id or "")
        if order is None or not order.is_open or order.symbol != params.get("symbol"):
            raise ApiError(110001, "order not exists or too late to cancel")
        return order

    def amend(self, account: Account, params: dict) -> Order:
        if not params.get("orderId") and not params.get("orderLinkId"):
            raise params_error("orderId or orderLinkId is required")
        order = self._find(account, params)
        qty = parse_decimal(params, "qty", required=False)
        price = parse_decimal(params, "price", required=False)
        tp = parse_decimal(params, "takeProfit", required=False)
        sl = parse_decimal(params, "stopLoss", required=False)
        if qty is None and price is None and tp is None and sl is None:
            raise ApiError(
                10001,
                "The order remains unchanged as the parameters entered match the existing ones.",
            )
        if qty is not None:
            check_qty(qty, order.spec, order.order_type)
            if qty <= order.cum_exec_qty:
                raise ApiError(110001, "order not exists or too late to replace")
            order.qty = qty
        if price is not None:
            if order.order_type != "Limit":
                raise params_error("price can only be amended on limit orders")
            check_price(price, order.spec)
            order.price = price
        if tp is not None:
            order.take_profit = tp or None
        if sl is not None:
            order.stop_loss = sl or None
        order.updated = self._now()
        execs = self._take(account, order)
        self._publish(account, [order], execs)
        return order

    def cancel(self, account: Account, params: dict) -> Order:
        if not params.get("orderId") and not params.get("orderLinkId"):
            raise params_error("orderId or orderLinkId is required")
        order = self._find(account, params)
        self._cancel(order, "CancelByUser")
        self._publish(account, [order], [])
        return order

    def cancel_all(self, account: Account, symbol: str | None) -> list[Order]:
        orders = account.open_orders(symbol)
        for order in orders:
            self._cancel(order, "CancelByUser")
        if orders:
            self._publish(account, orders, [])
        return orders

    def _cancel(self, order: Order, cancel_type: str) -> None:
        order.status = "PartiallyFilledCanceled" if order.cum_exec_qty else "Cancelled"
        order.cancel_type = cancel_type
        order.updated = self._now()

    # -- market-driven ----------------------------------------------------------------------

    def on_step(self, symbol: str, step: StepResult) -> None:
        """Fill resting orders the step's trades went through, then fire position stops."""
        market = self._markets[symbol]
        for uid in sorted(self._accounts.by_uid):
            account = self._accounts.by_uid[uid]
            touched, execs = [], []
            for order in account.open_orders(symbol):
                if order.order_type != "Limit":
                    continue
                through = [
                    t.qty
                    for t in step.trades
                    if (t.price < order.price if order.side == "Buy" else t.price > order.price)
                ]
                volume = sum(through, ZERO)
                if not volume:
                    continue
                qty = min(order.leaves_qty, volume)
                execs.append(
                    book_fill(
                        account,
                        order,
                        qty,
                        order.price,
                        True,
                        step.ts,
                        self._ids.next_uuid(),
                        market.last_price,
                    )
                )
                touched.append(order)
            if touched:
                self._publish(account, touched, execs)
            self._fire_stops(account, market, [t.price for t in step.trades])

    def _fire_stops(self, account: Account, market: SymbolMarket, prices: list[Decimal]) -> None:
        position = account.positions.get(market.spec.symbol)
        if position is None or position.size == 0:
            return
        for price in prices:
            kind = triggers.check(position, price)
            if kind is None:
                continue
            side = "Sell" if position.size > 0 else "Buy"
            req = OrderRequest(
                side, "Market", abs(position.size), ZERO, "IOC", True, True, "", None, None
            )
            position.clear_stops()
            self.place(account, market.spec.symbol, req, CREATE_TYPES[kind], kind)
            return

    # -- position settings -------------------------------------------------------------------

    def set_leverage(self, account: Account, symbol: str, leverage: Decimal) -> None:
        spec = self._markets[symbol].spec
        if not (Decimal(1) <= leverage <= spec.max_leverage):
            raise ApiError(10001, f"leverage invalid, must be between 1 and {spec.max_leverage}")
        position = account.position(spec)
        if position.leverage == leverage:
            raise ApiError(110043, "Set leverage not modified")
        position.leverage = leverage
        position.updated = self._now()
        self._publish(account, [], [], symbols=[symbol])

    def trading_stop(self, account: Account, symbol: str, params: dict) -> None:
        market = self._markets[symbol]
        position = account.position(market.spec)
        if position.size == 0:
            raise ApiError(10001, "can not set tp/sl/ts for zero position")
        tp = parse_decimal(params, "takeProfit", required=False)
        sl = parse_decimal(params, "stopLoss", required=False)
        trail = parse_decimal(params, "trailingStop", required=False)
        active = parse_decimal(params, "activePrice", required=False)
        problem = triggers.validate(position, market.last_price, tp, sl)
        if problem:
            raise ApiError(10001, problem)
        if tp is not None:
            position.take_profit = tp or None
        if sl is not None:
            position.stop_loss = sl or None
        if trail is not None:
            position.trailing_stop = trail or None
            position.active_price = active or None
            position.trail_extreme = None
        position.updated = self._now()
        self._publish(account, [], [], symbols=[symbol])

    # -- streams -----------------------------------------------------------------------------

    def _publish(
        self,
        account: Account,
        orders: list[Order],
        execs: list[dict],
        symbols: list[str] | None = None,
    ) -> None:
        uid = account.uid
        if execs:
            self._emit(uid, "execution", execs)
        if orders:
            self._emit(uid, "order", [o.to_bybit() for o in orders])
        changed = symbols or sorted({o.symbol for o in orders})
        if execs or symbols:
            self._emit(
                uid,
                "position",
                [account.position(self._markets[s].spec).to_bybit(self.mark(s)) for s in changed],
            )
            self._emit(uid, "wallet", [account.wallet_view(self.mark)])
