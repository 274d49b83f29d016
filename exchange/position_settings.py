"""Changes a trader makes to a position's settings: leverage (set-leverage) and the
position's TP/SL/trailing stop (trading-stop, https://bybit-exchange.github.io/docs/v5/position/trading-stop).
Each change is pushed on the `position` and `wallet` topics."""

from __future__ import annotations

from decimal import Decimal

from exchange import triggers
from exchange.accounts import Account
from exchange.errors import ApiError
from exchange.matching import Matching
from exchange.numbers import parse_decimal


def set_leverage(matching: Matching, account: Account, symbol: str, leverage: Decimal) -> None:
    spec = matching.market(symbol).spec
    if not (Decimal(1) <= leverage <= spec.max_leverage):
        raise ApiError(10001, f"leverage invalid, must be between 1 and {spec.max_leverage}")
    position = account.position(spec)
    if position.leverage == leverage:
        raise ApiError(110043, "Set leverage not modified")
    position.leverage = leverage
    position.updated = matching.now()
    matching.publish(account, [], [], symbols=[symbol])


def trading_stop(matching: Matching, account: Account, symbol: str, params: dict) -> None:
    market = matching.market(symbol)
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
    position.updated = matching.now()
    matching.publish(account, [], [], symbols=[symbol])
