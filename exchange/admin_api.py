"""The admin API (`/admin/...`, plain JSON, no signature; the server listens on loopback
only): accounts, funding, reset, the manual clock, the market switch and faults. Tests, demos
and the `plutarc exchange` CLI drive the exchange through it (see `exchange.admin`)."""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from exchange.accounts import Account
from exchange.engine import Exchange
from exchange.numbers import fmt
from exchange.ws.hub import Hub

READ_ONLY = frozenset({"state", "accounts", "faults"})


class AdminError(Exception):
    pass


def _json(data: object, status: int = 200) -> Response:
    return Response(
        json.dumps(data, default=lambda v: fmt(v) if isinstance(v, Decimal) else str(v)),
        status_code=status,
        media_type="application/json",
    )


def _decimal(body: dict, name: str, default: Decimal | None = None) -> Decimal | None:
    if body.get(name) in (None, ""):
        if default is None:
            raise AdminError(f"{name} is required")
        return default
    try:
        return Decimal(str(body[name]))
    except InvalidOperation:
        raise AdminError(f"{name} must be a number") from None


def _account_summary(exchange: Exchange, account: Account, secret: bool = False) -> dict:
    mark = exchange.matching.mark
    out = {
        "uid": account.uid,
        "apiKey": account.api_key,
        "wallet": account.wallet_view(mark),
        "positions": [account.position_view(p, mark) for p in account.positions.values() if p.size],
        "openOrders": [o.to_bybit() for o in account.open_orders()],
        "executions": len(account.executions),
    }
    if secret:
        out["apiSecret"] = account.api_secret
    return out


def _state(exchange: Exchange) -> dict:
    return {
        "clock": {
            "mode": exchange.clock.mode,
            "now": exchange.clock.now_ms(),
            "speed": exchange.clock.speed,
            "start": exchange.start_ms,
            "lastStep": exchange.last_step,
            "stepMs": exchange.config.step_ms,
        },
        "paused": exchange.paused,
        "symbols": {
            s: {"lastPrice": fmt(m.last_price), "regime": m.path.regime.name}
            for s, m in exchange.markets.items()
        },
        "accounts": [_account_summary(exchange, a) for a in exchange.accounts.by_uid.values()],
        "faults": exchange.faults.as_dict(),
    }


async def _handle(request: Request) -> object:
    exchange: Exchange = request.app.state.exchange
    hub: Hub = request.app.state.hub
    action = request.path_params["action"]
    if request.method == "GET" and action not in READ_ONLY:
        raise AdminError(f"{action} needs POST")
    body = await request.json() if request.method == "POST" and await request.body() else {}
    if not isinstance(body, dict):
        raise AdminError("body must be a JSON object")
    exchange.catch_up()
    if action == "state":
        return _state(exchange)
    if action == "accounts" and request.method == "POST":
        balance = _decimal(body, "balance", exchange.config.starting_balance)
        try:
            account = exchange.create_account(balance, body.get("apiKey"), body.get("apiSecret"))
        except ValueError as err:
            raise AdminError(str(err)) from None
        return _account_summary(exchange, account, secret=True)
    if action == "accounts":
        return [_account_summary(exchange, a) for a in exchange.accounts.by_uid.values()]
    if action == "account":
        account = exchange.accounts.by_uid.get(int(body.get("uid", 0)))
        if account is None:
            raise AdminError("unknown uid")
        if "amount" in body:
            exchange.fund(account.uid, _decimal(body, "amount"))
        return _account_summary(exchange, account)
    if action == "reset":
        await hub.drop("all")
        exchange.reset()
        return _state(exchange)
    if action == "advance":
        if not exchange.clock.manual:
            raise AdminError("the clock is the wall clock; start the exchange with clock=manual")
        to = body.get("to")
        now = exchange.advance_clock(ms=int(body.get("ms", 0)), to=int(to) if to else None)
        return {"now": now, "lastStep": exchange.last_step}
    if action == "pause":
        exchange.paused = bool(body.get("paused", True))
        return {"paused": exchange.paused}
    if action == "price":
        symbol = str(body.get("symbol", ""))
        if symbol not in exchange.markets:
            raise AdminError("unknown symbol")
        exchange.force_price(symbol, _decimal(body, "price"))
        return {"symbol": symbol, "nextPrice": body["price"]}
    if action == "faults":
        if request.method == "POST":
            try:
                exchange.faults.update(body)
            except (ValueError, TypeError) as err:
                raise AdminError(str(err)) from None
        return exchange.faults.as_dict()
    if action == "drop-ws":
        uid = body.get("uid")
        dropped = await hub.drop(str(body.get("scope", "all")), int(uid) if uid else None)
        return {"dropped": dropped}
    if action == "lose":
        topic = str(body.get("topic", ""))
        key = f"{body['uid']}:{topic}" if body.get("uid") else topic
        lose = exchange.faults.settings.lose
        lose[key] = lose.get(key, 0) + int(body.get("count", 1))
        return exchange.faults.as_dict()
    raise AdminError(f"unknown admin action {action!r}")


async def admin_endpoint(request: Request) -> Response:
    try:
        return _json(await _handle(request))
    except (AdminError, ValueError, KeyError) as err:
        return _json({"error": str(err)}, status=400)


routes = [Route("/admin/{action}", admin_endpoint, methods=["GET", "POST"])]
