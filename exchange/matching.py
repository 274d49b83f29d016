"""The matching engine: order placement, amendment and cancellation, taker fills against the
synthetic book (with slippage and, when on, market impact), maker fills of resting limit
orders when the price trades through them, conditional orders waiting `Untriggered` for their
trigger, position TP/SL/trailing-stop triggers and liquidations. Every change is pushed to the
account's private streams through `emit(uid, topic, data)`.

Invariant: own trades (market impact) found while an operation runs are queued in `_pending`
and replayed to the public streams and to `on_step` only when the outermost operation ends
(`_depth` returns to 0), so no operation ever runs inside another's loop over orders.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from decimal import Decimal

from exchange import admission, liquidation, triggers
from exchange.accounts import Account, Accounts
from exchange.errors import ApiError, params_error
from exchange.fills import book_fill
from exchange.ids import IdSource
from exchange.market.pricepath import quantize
from exchange.market.symbol import StepResult, SymbolMarket
from exchange.numbers import ZERO, parse_decimal
from exchange.orders import Order, OrderRequest, check_price, check_qty

Emit = Callable[[int, str, list[dict]], None]
Trades = Callable[[SymbolMarket, StepResult], None]
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
        on_trades: Trades | None = None,
    ) -> None:
        self._markets = markets
        self._accounts = accounts
        self._ids = ids
        self._now = now
        self._emit = emit
        # None: market impact off (own fills leave the book and the last price alone)
        self._on_trades = on_trades
        self._pending: list[tuple[SymbolMarket, StepResult]] = []
        self._depth = 0

    def mark(self, symbol: str) -> Decimal:
        return self._markets[symbol].last_price

    def now(self) -> int:
        return self._now()

    def market(self, symbol: str) -> SymbolMarket:
        return self._markets[symbol]

    @contextlib.contextmanager
    def _operation(self) -> Iterator[None]:
        self._depth += 1
        try:
            yield
        finally:
            self._depth -= 1
        if self._depth == 0 and self._pending:
            self._depth = 1
            try:
                while self._pending:
                    market, result = self._pending.pop(0)
                    if self._on_trades:
                        self._on_trades(market, result)
                    self._react(market, result)
            finally:
                self._depth = 0

    # -- requests -------------------------------------------------------------------------

    def place(
        self,
        account: Account,
        symbol: str,
        req: OrderRequest,
        create_type: str = "CreateByUser",
        stop_order_type: str = "",
    ) -> Order:
        with self._operation():
            return self._place(account, symbol, req, create_type, stop_order_type)

    def _place(
        self, account: Account, symbol: str, req: OrderRequest, create_type: str, stop_type: str
    ) -> Order:
        market = self._markets[symbol]
        if req.order_link_id and req.order_link_id in account.link_ids:
            raise ApiError(110072, "OrderLinkedID is duplicate")
        problem = triggers.validate_for_side(
            req.side, req.base_price or market.last_price, req.take_profit, req.stop_loss
        )
        if problem:
            raise ApiError(10001, problem)
        if req.trigger_price is not None:
            # triggerBy: mark and index price equal the last price in this simulator
            triggers.check_direction(req.trigger_direction, req.trigger_price, market.last_price)
            order = self._new_order(account, market, req, req.qty, create_type, "Stop")
            order.status = "Untriggered"
            self.publish(account, [order], [])
            return order
        qty = admission.admit(
            account, market, req.side, req.qty, req, req.close_position, self.mark
        )
        order = self._new_order(account, market, req, qty, create_type, stop_type)
        execs = self._take(account, order)
        self.publish(account, [order], execs)
        return order

    def _new_order(
        self,
        account: Account,
        market: SymbolMarket,
        req: OrderRequest,
        qty: Decimal,
        create_type: str,
        stop_type: str,
    ) -> Order:
        order = Order(
            self._ids.next_uuid(),
            req.order_link_id,
            account.uid,
            market.spec,
            req.side,
            req.order_type,
            qty,
            req.price,
            req.time_in_force,
            req.reduce_only,
            self._now(),
            market.last_price,
            req.take_profit,
            req.stop_loss,
            req.close_on_trigger,
            stop_type,
            create_type,
            trigger_price=req.trigger_price,
            trigger_direction=req.trigger_direction,
            trigger_by=req.trigger_by,
            close_position=req.close_position,
        )
        if req.order_type == "Market" and req.trigger_price is None:
            order.price = admission.protection_price(market, req.side)
        account.orders[order.order_id] = order
        if order.order_link_id:
            account.link_ids[order.order_link_id] = order.order_id
        return order

    def _take(self, account: Account, order: Order) -> list[dict]:
        """Execute the marketable part of an order as taker; settle what remains."""
        market = self._markets[order.symbol]
        fills = market.book.walk(order.side, order.leaves_qty, order.price or None)
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
        if fills and self._on_trades is not None:
            ids = [self._ids.next_uuid() for _ in fills]
            self._pending.append((market, market.trade_own(order.side, fills, now, ids)))
        if order.leaves_qty > 0 and (
            order.order_type == "Market" or order.time_in_force in ("IOC", "FOK")
        ):
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
        with self._operation():
            return self._amend(account, params)

    def _amend(self, account: Account, params: dict) -> Order:
        if not params.get("orderId") and not params.get("orderLinkId"):
            raise params_error("orderId or orderLinkId is required")
        order = self._find(account, params)
        qty = parse_decimal(params, "qty", required=False)
        price = parse_decimal(params, "price", required=False)
        tp = parse_decimal(params, "takeProfit", required=False)
        sl = parse_decimal(params, "stopLoss", required=False)
        trigger = parse_decimal(params, "triggerPrice", required=False)
        if all(v is None for v in (qty, price, tp, sl, trigger)):
            raise ApiError(
                10001,
                "The order remains unchanged as the parameters entered match the existing ones.",
            )
        if trigger is not None:
            if not order.untriggered:
                raise params_error("triggerPrice can only be amended on an untriggered order")
            check_price(trigger, order.spec)
            market = self._markets[order.symbol]
            triggers.check_direction(order.trigger_direction, trigger, market.last_price)
            order.trigger_price = trigger
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
        execs = [] if order.untriggered else self._take(account, order)
        self.publish(account, [order], execs)
        return order

    def cancel(self, account: Account, params: dict) -> Order:
        if not params.get("orderId") and not params.get("orderLinkId"):
            raise params_error("orderId or orderLinkId is required")
        order = self._find(account, params)
        self._cancel(order, "CancelByUser")
        self.publish(account, [order], [])
        return order

    def cancel_all(self, account: Account, symbol: str | None) -> list[Order]:
        orders = account.open_orders(symbol)
        for order in orders:
            self._cancel(order, "CancelByUser")
        if orders:
            self.publish(account, orders, [])
        return orders

    def _cancel(self, order: Order, cancel_type: str) -> None:
        if order.untriggered:
            order.status = "Deactivated"
        else:
            order.status = "PartiallyFilledCanceled" if order.cum_exec_qty else "Cancelled"
        order.cancel_type = cancel_type
        order.updated = self._now()

    # -- market-driven ----------------------------------------------------------------------

    def on_step(self, symbol: str, step: StepResult) -> None:
        """A market step: fill resting orders the trades went through, trigger conditional
        orders, fire position stops, liquidate."""
        with self._operation():
            self._react(self._markets[symbol], step)

    def _react(self, market: SymbolMarket, step: StepResult) -> None:
        symbol = market.spec.symbol
        prices = [t.price for t in step.trades]
        for uid in sorted(self._accounts.by_uid):
            account = self._accounts.by_uid[uid]
            touched, execs = [], []
            for order in account.open_orders(symbol):
                if order.untriggered:
                    if any(
                        triggers.crossed(order.trigger_direction, order.trigger_price, p)
                        for p in prices
                    ):
                        execs += self._trigger(account, market, order)
                        touched.append(order)
                    continue
                if order.order_type != "Limit" or not order.is_open:
                    continue
                through = [
                    t.qty
                    for t in step.trades
                    if (t.price < order.price if order.side == "Buy" else t.price > order.price)
                ]
                qty = min(order.leaves_qty, sum(through, ZERO))
                if not qty:
                    continue
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
                self.publish(account, touched, execs)
            self._fire_stops(account, market, prices)
            self._liquidate(account, market)

    def _trigger(self, account: Account, market: SymbolMarket, order: Order) -> list[dict]:
        """The market crossed a conditional order's trigger: it becomes a live order."""
        order.status = "New"
        order.updated = self._now()
        try:
            qty = admission.admit(
                account, market, order.side, order.qty, order, order.close_position, self.mark
            )
        except ApiError:
            return self._finish(order, "Deactivated", "EC_InsufficientAvailableBalance")
        order.qty = qty
        if order.order_type == "Market":
            order.price = admission.protection_price(market, order.side)
        return self._take(account, order)

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
            self._place(account, market.spec.symbol, req, CREATE_TYPES[kind], kind)
            return

    def _liquidate(self, account: Account, market: SymbolMarket) -> None:
        """Close positions whose margin ran out (see `exchange.liquidation`)."""
        position = account.positions.get(market.spec.symbol)
        if position is None or position.size == 0:
            return
        liq, bust = account.liq_prices(position, self.mark)
        if not liquidation.crossed(position, liq, market.last_price):
            return
        isolated = account.margin_mode == liquidation.ISOLATED
        victims = [position] if isolated else [p for p in account.positions.values() if p.size]
        for victim in victims:
            symbol = victim.spec.symbol
            cancelled = account.open_orders(symbol)
            for order in cancelled:
                self._cancel(order, "CancelByLiq")
            side = "Sell" if victim.size > 0 else "Buy"
            spec = victim.spec
            price = quantize(bust, spec.tick_size) if isolated and bust else self.mark(symbol)
            req = OrderRequest(
                side, "Market", abs(victim.size), price, "IOC", True, True, "", None, None
            )
            order = self._new_order(
                account, self._markets[symbol], req, abs(victim.size), "CreateByLiq", ""
            )
            order.price = price
            execs = [
                book_fill(
                    account,
                    order,
                    abs(victim.size),
                    price,
                    False,
                    self._now(),
                    self._ids.next_uuid(),
                    self.mark(symbol),
                    "BustTrade",
                )
            ]
            self.publish(account, [*cancelled, order], execs)

    # -- streams -----------------------------------------------------------------------------

    def publish(
        self,
        account: Account,
        orders: list[Order],
        execs: list[dict],
        symbols: list[str] | None = None,
    ) -> None:
        """Push execution, order, position and wallet as Bybit does: the position topic
        follows every order change (create, amend, cancel, fill), the wallet follows fills
        and position settings."""
        uid = account.uid
        if execs:
            self._emit(uid, "execution", execs)
        if orders:
            self._emit(uid, "order", [o.to_bybit() for o in orders])
        changed = symbols or sorted({o.symbol for o in orders})
        if changed:
            self._emit(
                uid,
                "position",
                [
                    account.position_view(account.position(self._markets[s].spec), self.mark)
                    for s in changed
                ],
            )
        if execs or symbols:
            self._emit(uid, "wallet", [account.wallet_view(self.mark)])
