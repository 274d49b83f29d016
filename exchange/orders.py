"""Orders: validation of an order/create request against the instrument's rules, and the
order record with its Bybit V5 shape (REST order lists and the private `order` topic).

Bybit V5 "Place Order" (https://bybit-exchange.github.io/docs/v5/order/create-order):
conditional orders carry `triggerPrice`, `triggerDirection` (1: fires when the price rises to
it, 2: when it falls to it) and `triggerBy` (LastPrice, MarkPrice, IndexPrice) and wait
`Untriggered`; `qty="0"` with `reduceOnly` and `closeOnTrigger` closes the whole position.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from exchange.config import InstrumentSpec
from exchange.errors import ApiError, params_error
from exchange.numbers import MONEY, ZERO, fmt, fmt_step, parse_decimal

SIDES = ("Buy", "Sell")
ORDER_TYPES = ("Market", "Limit")
TIME_IN_FORCE = ("GTC", "IOC", "FOK", "PostOnly")
MAX_LINK_ID = 36
OPEN_STATUSES = ("New", "PartiallyFilled", "Untriggered")
TRIGGER_BY = ("LastPrice", "MarkPrice", "IndexPrice")


@dataclass
class Order:
    """One order of one account. Invariant: cum_exec_qty <= qty; status is one of Bybit's
    orderStatus values; an order leaves the open set when its status is final."""

    order_id: str
    order_link_id: str
    uid: int
    spec: InstrumentSpec
    side: str
    order_type: str
    qty: Decimal
    price: Decimal
    time_in_force: str
    reduce_only: bool
    created: int
    last_price_on_created: Decimal
    take_profit: Decimal | None = None
    stop_loss: Decimal | None = None
    close_on_trigger: bool = False
    stop_order_type: str = ""
    create_type: str = "CreateByUser"
    trigger_price: Decimal | None = None
    trigger_direction: int = 0
    trigger_by: str = ""
    close_position: bool = False
    status: str = "New"
    reject_reason: str = "EC_NoError"
    cancel_type: str = "UNKNOWN"
    cum_exec_qty: Decimal = ZERO
    cum_exec_value: Decimal = ZERO
    cum_exec_fee: Decimal = ZERO
    updated: int = 0

    @property
    def symbol(self) -> str:
        return self.spec.symbol

    @property
    def leaves_qty(self) -> Decimal:
        return self.qty - self.cum_exec_qty if self.is_open else ZERO

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def untriggered(self) -> bool:
        return self.status == "Untriggered"

    @property
    def avg_price(self) -> Decimal | None:
        if self.cum_exec_qty == 0:
            return None
        return (self.cum_exec_value / self.cum_exec_qty).quantize(Decimal("0.00000001"))

    def to_bybit(self) -> dict:
        s = self.spec
        price = fmt_step(self.price, s.tick_size) if self.price else "0"
        leaves_value = (self.leaves_qty * (self.price or self.last_price_on_created)).quantize(
            MONEY
        )
        return {
            "orderId": self.order_id,
            "orderLinkId": self.order_link_id,
            "blockTradeId": "",
            "symbol": s.symbol,
            "price": price,
            "qty": fmt_step(self.qty, s.qty_step),
            "side": self.side,
            "isLeverage": "",
            "positionIdx": 0,
            "orderStatus": self.status,
            "createType": self.create_type,
            "cancelType": self.cancel_type,
            "rejectReason": self.reject_reason,
            "avgPrice": fmt(self.avg_price) if self.avg_price is not None else "",
            "leavesQty": fmt_step(self.leaves_qty, s.qty_step),
            "leavesValue": fmt(leaves_value),
            "cumExecQty": fmt_step(self.cum_exec_qty, s.qty_step),
            "cumExecValue": fmt(self.cum_exec_value),
            "cumExecFee": fmt(self.cum_exec_fee),
            "cumFeeDetail": {s.quote_coin: fmt(self.cum_exec_fee)} if self.cum_exec_fee else {},
            "feeCurrency": "",
            "timeInForce": self.time_in_force,
            "orderType": self.order_type,
            "stopOrderType": self.stop_order_type,
            "orderIv": "",
            "marketUnit": "",
            "triggerPrice": fmt_step(self.trigger_price, s.tick_size) if self.trigger_price else "",
            "takeProfit": fmt(self.take_profit),
            "stopLoss": fmt(self.stop_loss),
            "tpslMode": "Full" if self.take_profit or self.stop_loss else "",
            "ocoTriggerBy": "",
            "tpLimitPrice": "",
            "slLimitPrice": "",
            "tpTriggerBy": "LastPrice" if self.take_profit else "",
            "slTriggerBy": "LastPrice" if self.stop_loss else "",
            "triggerDirection": self.trigger_direction,
            "triggerBy": self.trigger_by,
            "lastPriceOnCreated": fmt_step(self.last_price_on_created, s.tick_size),
            "reduceOnly": self.reduce_only,
            "closeOnTrigger": self.close_on_trigger,
            "placeType": "",
            "smpType": "None",
            "smpGroup": 0,
            "smpOrderId": "",
            "createdTime": str(self.created),
            "updatedTime": str(self.updated or self.created),
            "category": "linear",
        }


@dataclass(frozen=True)
class OrderRequest:
    """A validated order/create request."""

    side: str
    order_type: str
    qty: Decimal
    price: Decimal
    time_in_force: str
    reduce_only: bool
    close_on_trigger: bool
    order_link_id: str
    take_profit: Decimal | None
    stop_loss: Decimal | None
    trigger_price: Decimal | None = None
    trigger_direction: int = 0
    trigger_by: str = ""
    close_position: bool = False

    @property
    def base_price(self) -> Decimal | None:
        """The price TP/SL are judged against: the trigger, else the limit price (a market
        order's is the last price, known only to the market)."""
        return self.trigger_price or (self.price if self.order_type == "Limit" else None)


def _flag(params: dict, name: str) -> bool:
    raw = params.get(name, False)
    return raw is True or str(raw).lower() == "true"


def check_qty(qty: Decimal, spec: InstrumentSpec, order_type: str) -> None:
    """Bybit's quantity rules for linear contracts."""
    if qty <= 0:
        raise params_error("qty must be positive")
    if qty % spec.qty_step:
        raise ApiError(10001, "Qty invalid")
    if qty < spec.min_qty:
        raise ApiError(10001, "The number of contracts exceeds minimum limit allowed")
    limit = spec.max_market_qty if order_type == "Market" else spec.max_qty
    if qty > limit:
        raise ApiError(10001, "The number of contracts exceeds maximum limit allowed")


def check_price(price: Decimal, spec: InstrumentSpec) -> None:
    if price <= 0:
        raise params_error("price must be positive")
    if price % spec.tick_size:
        raise ApiError(10001, "Price invalid")


def parse_create(params: dict, spec: InstrumentSpec) -> OrderRequest:
    """Validate the body of order/create (symbol and category already checked)."""
    side = params.get("side")
    if side not in SIDES:
        raise params_error("side invalid")
    order_type = params.get("orderType")
    if order_type not in ORDER_TYPES:
        raise params_error("orderType invalid")
    reduce_only, close_on_trigger = _flag(params, "reduceOnly"), _flag(params, "closeOnTrigger")
    qty = parse_decimal(params, "qty")
    # qty "0" + reduceOnly + closeOnTrigger: close whatever the position is when it executes
    close_position = qty == 0 and reduce_only and close_on_trigger
    if not close_position:
        check_qty(qty, spec, order_type)
    tif = params.get("timeInForce") or ("IOC" if order_type == "Market" else "GTC")
    if tif not in TIME_IN_FORCE:
        raise params_error("timeInForce invalid")
    price = ZERO
    if order_type == "Limit":
        price = parse_decimal(params, "price")
        check_price(price, spec)
    link = str(params.get("orderLinkId") or "")
    if len(link) > MAX_LINK_ID:
        raise params_error("orderLinkId is too long (max 36 characters)")
    if str(params.get("positionIdx", 0)) not in ("0", ""):
        raise ApiError(10001, "position idx not match position mode")
    take_profit = parse_decimal(params, "takeProfit", required=False)
    stop_loss = parse_decimal(params, "stopLoss", required=False)
    trigger_price, direction, trigger_by = _parse_trigger(params, spec)
    if order_type == "Market" and trigger_price is None:
        tif = "IOC"
    return OrderRequest(
        side,
        order_type,
        qty,
        price,
        tif,
        reduce_only,
        close_on_trigger,
        link,
        take_profit or None,
        stop_loss or None,
        trigger_price,
        direction,
        trigger_by,
        close_position,
    )


def _parse_trigger(params: dict, spec: InstrumentSpec) -> tuple[Decimal | None, int, str]:
    """(triggerPrice, triggerDirection, triggerBy) of a conditional order, (None, 0, "")
    otherwise. The direction is required: it says which crossing fires the order."""
    trigger_price = parse_decimal(params, "triggerPrice", required=False)
    if not trigger_price:
        return None, 0, ""
    check_price(trigger_price, spec)
    direction = str(params.get("triggerDirection", ""))
    if direction not in ("1", "2"):
        raise params_error("triggerDirection must be 1 (rise) or 2 (fall)")
    trigger_by = str(params.get("triggerBy") or "LastPrice")
    if trigger_by not in TRIGGER_BY:
        raise params_error("triggerBy invalid")
    return trigger_price, int(direction), trigger_by
