"""Signed position and account routes: position/list, set-leverage, trading-stop,
account/wallet-balance, account/fee-rate."""

from __future__ import annotations

from starlette.routing import Route

from exchange.accounts import Account
from exchange.engine import Exchange
from exchange.errors import ApiError, params_error
from exchange.numbers import fmt, parse_decimal
from exchange.rest.common import market_for, paginate, require_linear, signed


def position_list(exchange: Exchange, account: Account, params: dict) -> dict:
    require_linear(params)
    mark = exchange.matching.mark
    if params.get("symbol"):
        market = market_for(exchange, params)
        positions = [account.position(market.spec)]
    elif params.get("settleCoin") == "USDT":
        positions = [p for p in account.positions.values() if p.size != 0]
    else:
        raise params_error("symbol or settleCoin is required")
    page, cursor = paginate(positions, params, 20, 200)
    return {
        "category": "linear",
        "list": [p.to_bybit(mark(p.spec.symbol)) for p in page],
        "nextPageCursor": cursor,
    }


def set_leverage(exchange: Exchange, account: Account, params: dict) -> dict:
    require_linear(params)
    market = market_for(exchange, params)
    buy = parse_decimal(params, "buyLeverage")
    sell = parse_decimal(params, "sellLeverage")
    if buy != sell:
        raise ApiError(10001, "buy leverage must equal sell leverage in one-way mode")
    exchange.matching.set_leverage(account, market.spec.symbol, buy)
    return {}


def trading_stop(exchange: Exchange, account: Account, params: dict) -> dict:
    require_linear(params)
    market = market_for(exchange, params)
    if str(params.get("positionIdx", 0)) != "0":
        raise ApiError(10001, "position idx not match position mode")
    exchange.matching.trading_stop(account, market.spec.symbol, params)
    return {}


def wallet_balance(exchange: Exchange, account: Account, params: dict) -> dict:
    if params.get("accountType") != "UNIFIED":
        raise ApiError(10001, "accountType only support UNIFIED")
    coins = params.get("coin")
    view = account.wallet_view(exchange.matching.mark)
    if coins and "USDT" not in str(coins).split(","):
        view["coin"] = []
    return {"list": [view]}


def fee_rate(exchange: Exchange, account: Account, params: dict) -> dict:
    require_linear(params)
    symbol = params.get("symbol")
    if symbol:
        market_for(exchange, params)
    rows = [
        {
            "symbol": s,
            "baseCoin": m.spec.base_coin,
            "takerFeeRate": fmt(account.taker_fee),
            "makerFeeRate": fmt(account.maker_fee),
        }
        for s, m in exchange.markets.items()
        if not symbol or s == symbol
    ]
    return {"category": "linear", "list": rows}


routes = [
    Route("/v5/position/list", signed("/v5/position/list", position_list)),
    Route(
        "/v5/position/set-leverage",
        signed("/v5/position/set-leverage", set_leverage),
        methods=["POST"],
    ),
    Route(
        "/v5/position/trading-stop",
        signed("/v5/position/trading-stop", trading_stop),
        methods=["POST"],
    ),
    Route("/v5/account/wallet-balance", signed("/v5/account/wallet-balance", wallet_balance)),
    Route("/v5/account/fee-rate", signed("/v5/account/fee-rate", fee_rate)),
]
