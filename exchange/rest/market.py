"""Public market routes: time, instruments-info, kline (and the mark/index price klines),
tickers, orderbook, recent trades, funding history, open interest and risk limits.

Bybit V5 market pages (https://bybit-exchange.github.io/docs/v5/market/time, .../instrument,
.../kline, .../mark-kline, .../index-kline, .../tickers, .../orderbook, .../recent-trade,
.../history-fund-rate, .../open-interest, .../risk-limit). Every time here is market time.
"""

from __future__ import annotations

from decimal import Decimal

from starlette.routing import Route

from exchange import funding
from exchange.engine import Exchange
from exchange.errors import params_error
from exchange.market import views
from exchange.market.candles import INTERVAL_MS
from exchange.market.symbol import SymbolMarket
from exchange.numbers import fmt, fmt_step
from exchange.positions import MAINTENANCE_RATE
from exchange.rest.common import (
    int_param,
    linear_list,
    market_for,
    public,
    require_linear,
)

OPEN_INTEREST_INTERVALS = {
    "5min": 300_000,
    "15min": 900_000,
    "30min": 1_800_000,
    "1h": 3_600_000,
    "4h": 14_400_000,
    "1d": 86_400_000,
}


def server_time(exchange: Exchange, params: dict) -> dict:
    now = exchange.now()
    return {"timeSecond": str(now // 1000), "timeNano": str(now * 1_000_000)}


def instruments_info(exchange: Exchange, params: dict) -> dict:
    symbol = params.get("symbol")
    launch = exchange.start_ms - exchange.config.history_candles * 60_000
    rows = [
        views.instrument(m.spec, launch)
        for s, m in exchange.markets.items()
        if not symbol or s == symbol
    ]
    return {"category": "linear", "list": rows, "nextPageCursor": ""}


def _candles(exchange: Exchange, params: dict) -> tuple[SymbolMarket, list]:
    require_linear(params, "linear")
    market = market_for(exchange, params)
    interval = params.get("interval")
    if interval not in INTERVAL_MS:
        raise params_error("interval invalid")
    limit = int_param(params, "limit", 200, 1, 1000)
    start = int_param(params, "start", None, 0, 2**62)
    end = int_param(params, "end", None, 0, 2**62)
    return market, market.candles.series[interval].window(start, end, limit)


def kline(exchange: Exchange, params: dict) -> dict:
    market, candles = _candles(exchange, params)
    rows = [views.kline_row(c, market.spec) for c in candles]
    return {"category": "linear", "symbol": market.spec.symbol, "list": rows}


def price_kline(exchange: Exchange, params: dict) -> dict:
    """Mark and index price klines: [start, open, high, low, close]; mark = index = last
    price in this simulator."""
    market, candles = _candles(exchange, params)
    rows = [views.kline_row(c, market.spec)[:5] for c in candles]
    return {"category": "linear", "symbol": market.spec.symbol, "list": rows}


def tickers(exchange: Exchange, params: dict) -> dict:
    symbol = params.get("symbol")
    if symbol:
        market_for(exchange, params)
    now, seed = exchange.now(), exchange.config.seed
    rows = [
        views.ticker(m, now, seed) for s, m in exchange.markets.items() if not symbol or s == symbol
    ]
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


def recent_trades(exchange: Exchange, params: dict) -> dict:
    market = market_for(exchange, params)
    limit = int_param(params, "limit", 500, 1, 1000)
    spec = market.spec
    rows = [
        {
            "execId": t.trade_id,
            "symbol": spec.symbol,
            "price": fmt_step(t.price, spec.tick_size),
            "size": fmt_step(t.qty, spec.qty_step),
            "side": t.side,
            "time": str(t.ts),
            "isBlockTrade": False,
            "isRPITrade": False,
        }
        for t in list(reversed(market.recent))[:limit]
    ]
    return {"category": "linear", "list": rows}


def funding_history(exchange: Exchange, params: dict) -> dict:
    market = market_for(exchange, params)
    limit = int_param(params, "limit", 200, 1, 200)
    start = int_param(params, "startTime", None, 0, 2**62)
    end = int_param(params, "endTime", None, 0, 2**62)
    now = exchange.now()
    launch = exchange.start_ms - exchange.config.history_candles * 60_000
    rows = funding.history(
        exchange.config.seed, market.spec.symbol, launch, start, min(end or now, now), limit
    )
    return {"category": "linear", "list": rows}


def open_interest(exchange: Exchange, params: dict) -> dict:
    """Open interest = the simulated accounts' long contracts (the synthetic market's
    anonymous traders hold none); only the current bucket is known."""
    require_linear(params)
    market = market_for(exchange, params)
    bucket = OPEN_INTEREST_INTERVALS.get(str(params.get("intervalTime")))
    if bucket is None:
        raise params_error("intervalTime invalid")
    int_param(params, "limit", 50, 1, 200)
    spec = market.spec
    size = sum(
        (
            p.size
            for a in exchange.accounts.by_uid.values()
            if (p := a.positions.get(spec.symbol)) is not None and p.size > 0
        ),
        Decimal(0),
    )
    now = exchange.now()
    row = {"openInterest": fmt_step(size, spec.qty_step), "timestamp": str(now - now % bucket)}
    return {"symbol": spec.symbol, "category": "linear", "list": [row], "nextPageCursor": ""}


def risk_limit(exchange: Exchange, params: dict) -> dict:
    """One risk tier per symbol: the maintenance rate every position uses here."""
    symbol = params.get("symbol")
    rows = [
        {
            "id": 1,
            "symbol": s,
            "riskLimitValue": "2000000",
            "maintenanceMargin": fmt(MAINTENANCE_RATE),
            "initialMargin": fmt(1 / m.spec.max_leverage),
            "isLowestRisk": 1,
            "maxLeverage": fmt_step(m.spec.max_leverage, Decimal("0.01")),
            "mmDeduction": "",
        }
        for s, m in exchange.markets.items()
        if not symbol or s == symbol
    ]
    return {"category": "linear", "list": rows, "nextPageCursor": ""}


routes = [
    Route("/v5/market/time", public(server_time)),
    Route("/v5/market/instruments-info", public(linear_list(instruments_info))),
    Route("/v5/market/kline", public(kline)),
    Route("/v5/market/mark-price-kline", public(price_kline)),
    Route("/v5/market/index-price-kline", public(price_kline)),
    Route("/v5/market/tickers", public(linear_list(tickers))),
    Route("/v5/market/orderbook", public(orderbook)),
    Route("/v5/market/recent-trade", public(linear_list(recent_trades))),
    Route("/v5/market/funding/history", public(linear_list(funding_history))),
    Route("/v5/market/open-interest", public(open_interest)),
    Route("/v5/market/risk-limit", public(linear_list(risk_limit))),
]
