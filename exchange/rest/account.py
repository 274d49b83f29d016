"""Signed position and account routes: position/list, closed-pnl, set-leverage, switch-mode,
trading-stop, account/wallet-balance, account/fee-rate
(https://bybit-exchange.github.io/docs/v5/position and .../v5/account pages)."""

from __future__ import annotations

from starlette.routing import Route

from exchange import position_settings
from exchange.accounts import Account
from exchange.engine import Exchange
from exchange.errors import ApiError, params_error
from exchange.numbers import fmt, parse_decimal
from exchange.rest.common import (
    int_param,
    linear_list,
    market_for,
    paginate,
    require_linear,
    signed,
)


def position_list(exchange: Exchange, account: Account, params: dict) -> dict:
    if params.get("symbol"):
        market = market_for(exchange, params)
        positions = [account.position(market.spec)]
    elif params.get("settleCoin") == "USDT":
        positions = [p for p in account.positions.values() if p.size != 0]
    elif params.get("settleCoin") or params.get("baseCoin"):
        positions = []
    else:
        raise params_error("symbol or settleCoin is required")
    page, cursor = paginate(positions, params, 20, 200)
    return {
        "category": "linear",
        "list": [account.position_view(p, exchange.matching.mark) for p in page],
        "nextPageCursor": cursor,
    }


def closed_pnl(exchange: Exchange, account: Account, params: dict) -> dict:
    """One record per order that closed some of a position, newest first."""
    start = int_param(params, "startTime", None, 0, 2**62)
    end = int_param(params, "endTime", None, 0, 2**62)
    symbol = params.get("symbol")
    if symbol:
        market_for(exchange, params)
    rows = [
        r
        for r in reversed(account.closed_pnl)
        if (not symbol or r.spec.symbol == symbol)
        and (start is None or r.updated >= start)
        and (end is None or r.updated <= end)
    ]
    page, cursor = paginate(rows, params, 50, 100)
    return {"category": "linear", "list": [r.to_bybit() for r in page], "nextPageCursor": cursor}


def switch_mode(exchange: Exchange, account: Account, params: dict) -> dict:
    """Only one-way mode (mode 0) is simulated; asking for it again is Bybit's 110025."""
    require_linear(params)
    if not params.get("symbol") and not params.get("coin"):
        raise params_error("symbol or coin is required")
    if str(params.get("mode")) == "0":
        raise ApiError(110025, "Position mode is not modified")
    raise ApiError(10001, "params error: only one-way mode (mode 0) is simulated")


def set_leverage(exchange: Exchange, account: Account, params: dict) -> dict:
    require_linear(params)
    market = market_for(exchange, params)
    buy = parse_decimal(params, "buyLeverage")
    sell = parse_decimal(params, "sellLeverage")
    if buy != sell:
        raise ApiError(10001, "buy leverage must equal sell leverage in one-way mode")
    position_settings.set_leverage(exchange.matching, account, market.spec.symbol, buy)
    return {}


def trading_stop(exchange: Exchange, account: Account, params: dict) -> dict:
    require_linear(params)
    market = market_for(exchange, params)
    if str(params.get("positionIdx", 0)) != "0":
        raise ApiError(10001, "position idx not match position mode")
    position_settings.trading_stop(exchange.matching, account, market.spec.symbol, params)
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
    Route("/v5/position/list", signed("/v5/position/list", linear_list(position_list))),
    Route("/v5/position/closed-pnl", signed("/v5/position/closed-pnl", linear_list(closed_pnl))),
    Route(
        "/v5/position/switch-mode",
        signed("/v5/position/switch-mode", switch_mode),
        methods=["POST"],
    ),
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
    Route("/v5/account/fee-rate", signed("/v5/account/fee-rate", linear_list(fee_rate))),
]
