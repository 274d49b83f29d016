"""Signed trading routes: order/create, amend, cancel, cancel-all, realtime, history, and
execution/list (https://bybit-exchange.github.io/docs/v5/order/create-order and the pages
next to it). Lists of another valid category answer an empty list, as Bybit does."""

from __future__ import annotations

from starlette.routing import Route

from exchange.accounts import Account
from exchange.engine import Exchange
from exchange.errors import ApiError
from exchange.orders import Order, parse_create
from exchange.rest.common import (
    empty_list,
    int_param,
    linear_list,
    listed_category,
    market_for,
    paginate,
    require_linear,
    signed,
)


def _ids(order: Order) -> dict:
    return {"orderId": order.order_id, "orderLinkId": order.order_link_id}


def create(exchange: Exchange, account: Account, params: dict) -> dict:
    require_linear(params)
    market = market_for(exchange, params)
    request = parse_create(params, market.spec)
    return _ids(exchange.matching.place(account, market.spec.symbol, request))


def amend(exchange: Exchange, account: Account, params: dict) -> dict:
    require_linear(params)
    market_for(exchange, params)
    return _ids(exchange.matching.amend(account, params))


def cancel(exchange: Exchange, account: Account, params: dict) -> dict:
    require_linear(params)
    market_for(exchange, params)
    return _ids(exchange.matching.cancel(account, params))


def cancel_all(exchange: Exchange, account: Account, params: dict) -> dict:
    require_linear(params)
    symbol = market_for(exchange, params).spec.symbol if params.get("symbol") else None
    orders = exchange.matching.cancel_all(account, symbol)
    return {"list": [_ids(o) for o in orders], "success": "1"}


def _matches(order: Order, params: dict) -> bool:
    base, settle = params.get("baseCoin"), params.get("settleCoin")
    return all(
        (
            not params.get("symbol") or order.symbol == params["symbol"],
            not base or order.spec.base_coin == base,
            not settle or order.spec.quote_coin == settle,
            not params.get("orderId") or order.order_id == params["orderId"],
            not params.get("orderLinkId") or order.order_link_id == params["orderLinkId"],
            not params.get("orderStatus") or order.status == params["orderStatus"],
        )
    )


def _order_list(account: Account, params: dict, keep, default_limit: int, max_limit: int) -> dict:
    orders = [o for o in account.orders.values() if keep(o) and _matches(o, params)]
    orders.sort(key=lambda o: o.created, reverse=True)
    page, cursor = paginate(orders, params, default_limit, max_limit)
    return {"category": "linear", "list": [o.to_bybit() for o in page], "nextPageCursor": cursor}


def realtime(exchange: Exchange, account: Account, params: dict) -> dict:
    category = listed_category(params)
    if not any(params.get(k) for k in ("symbol", "baseCoin", "settleCoin")):
        # Bybit, linear: open orders need one of symbol, baseCoin, settleCoin
        raise ApiError(
            10001,
            "Missing some parameters that must be filled in, symbol or settleCoin or baseCoin",
        )
    if category != "linear":
        return empty_list(category)
    by_id = bool(params.get("orderId") or params.get("orderLinkId"))
    closed_only = str(params.get("openOnly", "0")) == "1"

    def keep(o: Order) -> bool:
        return by_id or (not o.is_open if closed_only else o.is_open)

    return _order_list(account, params, keep, 20, 50)


def history(exchange: Exchange, account: Account, params: dict) -> dict:
    return _order_list(account, params, lambda o: True, 20, 50)


def executions(exchange: Exchange, account: Account, params: dict) -> dict:
    start = int_param(params, "startTime", None, 0, 2**62)
    end = int_param(params, "endTime", None, 0, 2**62)
    rows = [
        e
        for e in reversed(account.executions)
        if (not params.get("symbol") or e["symbol"] == params["symbol"])
        and (not params.get("orderId") or e["orderId"] == params["orderId"])
        and (not params.get("orderLinkId") or e["orderLinkId"] == params["orderLinkId"])
        and (not params.get("execType") or e["execType"] == params["execType"])
        and (start is None or int(e["execTime"]) >= start)
        and (end is None or int(e["execTime"]) <= end)
    ]
    page, cursor = paginate(rows, params, 50, 100)
    return {"category": "linear", "list": page, "nextPageCursor": cursor}


routes = [
    Route("/v5/order/create", signed("/v5/order/create", create), methods=["POST"]),
    Route("/v5/order/amend", signed("/v5/order/amend", amend), methods=["POST"]),
    Route("/v5/order/cancel", signed("/v5/order/cancel", cancel), methods=["POST"]),
    Route("/v5/order/cancel-all", signed("/v5/order/cancel-all", cancel_all), methods=["POST"]),
    Route("/v5/order/realtime", signed("/v5/order/realtime", realtime)),
    Route("/v5/order/history", signed("/v5/order/history", linear_list(history))),
    Route("/v5/execution/list", signed("/v5/execution/list", linear_list(executions))),
]
