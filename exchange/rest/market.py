"""Public market routes: time, instruments-info, kline, tickers, orderbook."""

from __future__ import annotations

from starlette.routing import Route

from exchange.clock import wall_ms
from exchange.engine import Exchange
from exchange.errors import ApiError, params_error
from exchange.market import views
from exchange.market.candles import INTERVAL_MS
from exchange.rest.common import int_param, market_for, public, require_linear

CATEGORIES = ("linear", "inverse", "spot", "option")


def server_time(exchange: Exchange, params: dict) -> dict:
    now = wall_ms()
    return {"timeSecond": str(now // 1000), "timeNano": str(now * 1_000_000)}


def instruments_info(exchange: Exchange, params: dict) -> dict:
    category = params.get("category")
    if category not in CATEGORIES:
        raise ApiError(10001, "Illegal category")
    rows = []
    if category == "linear":
        symbol = params.get("symbol")
        launch = exchange.start_ms - exchange.config.history_candles * 60_000
        rows = [
            views.instrument(m.spec, launch)
            for s, m in exchange.markets.items()
            if not symbol or s == symbol
        ]
    return {"category": category, "list": rows, "nextPageCursor": ""}


def kline(exchange: Exchange, params: dict) -> dict:
    require_linear(params, "linear")
    market = market_for(exchange, params)
    interval = params.get("interval")
    if interval not in INTERVAL_MS:
        raise params_error("interval invalid")
    limit = int_param(params, "limit", 200, 1, 1000)
    start = int_param(params, "start", None, 0, 2**62)
    end = int_param(params, "end", None, 0, 2**62)
    candles = market.candles.series[interval].window(start, end, limit)
    return {
        "category": "linear",
        "symbol": market.spec.symbol,
        "list": [views.kline_row(c, market.spec) for c in candles],
    }


def tickers(exchange: Exchange, params: dict) -> dict:
    require_linear(params)
    symbol = params.get("symbol")
    if symbol and symbol not in exchange.markets:
        raise ApiError(10001, "params error: symbol invalid")
    now = exchange.now()
    rows = [views.ticker(m, now) for s, m in exchange.markets.items() if not symbol or s == symbol]
    return {"category": "linear", "list": rows}


def orderbook(exchange: Exchange, params: dict) -> dict:
    require_linear(params)
    market = market_for(exchange, params)
    depth = int_param(params, "limit", 25, 1, 500)
    bids, asks = market.book.top(depth)
    now = exchange.now()
    return {
        "s": market.spec.symbol,
        "b": views.levels(bids, market.spec),
        "a": views.levels(asks, market.spec),
        "ts": now,
        "u": market.book.update_id,
        "seq": market.seq,
        "cts": now,
    }


routes = [
    Route("/v5/market/time", public(server_time)),
    Route("/v5/market/instruments-info", public(instruments_info)),
    Route("/v5/market/kline", public(kline)),
    Route("/v5/market/tickers", public(tickers)),
    Route("/v5/market/orderbook", public(orderbook)),
]
