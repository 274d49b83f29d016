"""Market data for the dashboard's charts (`market:*`): the candles of a bot's symbol and
timeframe, read from the public kline REST of the bot's exchange (the local exchange, Bybit
testnet or mainnet; the local exchange's CA is trusted), cached briefly; and the history of
any symbol and timeframe of an exchange (`market:history`, what the dashboard backtests on).

Candles are an action: they come from outside the database, so they cannot be a live query.
The dashboard polls them; the cache keeps many tabs on one bot to one exchange call per
`CACHE_S`.
"""

from __future__ import annotations

import ssl
import time
from decimal import Decimal
from typing import Annotated, Any, Literal, TypedDict

import httpx
from pydantic import Field, StringConstraints

from backend.domain import exchanges
from backend.domain.botstate import owned_bot
from backend.runtime import BadRequest, Ctx, Id, NotFound, Unavailable, action, query
from strategy.template import TIMEFRAMES

BotId = Id["bots"]
Exchange = Literal["local", "bybit"]
Symbol = Annotated[str, StringConstraints(pattern=r"^[A-Z0-9]{2,30}$")]
CACHE_S = 2.0
TIMEOUT_S = 5.0
DAY_MS = 86_400_000


class CandleSource(TypedDict):
    symbol: str
    timeframe: str
    exchange: str
    testnet: bool
    rest_url: str | None
    ca_pem: str | None


class Candle(TypedDict):
    time: int  # open time, seconds since the epoch
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal


class Candles(TypedDict):
    symbol: str
    timeframe: str
    candles: list[Candle]


class Endpoint(TypedDict):
    exchange: str
    testnet: bool
    rest_url: str | None
    ca_pem: str | None


# (rest_url, symbol, interval, limit) -> (monotonic time fetched, candles). Entries older than
# CACHE_S are never served; the dict holds one entry per chart shown, so it stays small.
_cache: dict[tuple[str, str, str, int], tuple[float, list[Candle]]] = {}


def bybit_interval(timeframe: str) -> str:
    """Bybit's kline interval for a template timeframe: minutes, or "D" for a day."""
    ms = TIMEFRAMES[timeframe]
    return "D" if ms == DAY_MS else str(ms // 60_000)


@query
async def source(ctx: Ctx, bot_id: BotId) -> CandleSource:
    """Where the candles of a bot come from: symbol, timeframe and its exchange's public REST
    URL (with the CA certificate of the local exchange)."""
    bot = await owned_bot(ctx.db, bot_id, ctx.auth.require_user())
    timeframe = await ctx.db.fetchval(
        "SELECT template->>'timeframe' FROM strategy_versions WHERE strategy_id = $1 "
        "AND version = $2", bot["strategy_id"], bot["strategy_version"],
    )
    key = await ctx.db.fetchrow(
        "SELECT exchange, testnet FROM api_keys WHERE id = $1 AND user_id = $2",
        bot["api_key_id"], bot["user_id"],
    )
    if timeframe is None or key is None:
        raise NotFound(f"bot {bot_id} has no strategy or API key, so no market", field="bot_id")
    endpoint = await exchanges.endpoint(ctx.db, key["exchange"], key["testnet"])
    return {"symbol": bot["symbol"], "timeframe": timeframe, "exchange": key["exchange"],
            "testnet": key["testnet"], "rest_url": endpoint["rest_url"],
            "ca_pem": endpoint["ca_pem"]}


@action
async def candles(
    ctx: Ctx, bot_id: BotId, limit: Annotated[int, Field(ge=10, le=1000)] = 200
) -> Candles:
    """The latest `limit` candles of the bot's symbol and timeframe, oldest first, each
    `{time (seconds), open, high, low, close, volume}`; 503 when the exchange is unreachable."""
    assert ctx.query is not None
    src = await ctx.query("market:source", {"bot_id": bot_id})
    if not src["rest_url"]:
        raise Unavailable(f"exchange {src['exchange']!r} has no known address (is the local "
                          "exchange running?)")
    interval = bybit_interval(src["timeframe"])
    key = (src["rest_url"], src["symbol"], interval, limit)
    hit = _cache.get(key)
    if hit is None or time.monotonic() - hit[0] > CACHE_S:
        hit = (time.monotonic(), await _fetch(src, interval, limit))
        _cache[key] = hit
    return {"symbol": src["symbol"], "timeframe": src["timeframe"], "candles": hit[1]}


@query
async def endpoint(ctx: Ctx, exchange: Exchange, testnet: bool = False) -> Endpoint:
    """Where an exchange's public REST is reached (with the local exchange's CA)."""
    ctx.auth.require_user()
    found = await exchanges.endpoint(ctx.db, exchange, testnet)
    return {"exchange": exchange, "testnet": testnet and exchange != "local",
            "rest_url": found["rest_url"], "ca_pem": found["ca_pem"]}


@action
async def history(
    ctx: Ctx, exchange: Exchange, symbol: Symbol, timeframe: str, testnet: bool = False,
    limit: Annotated[int, Field(ge=10, le=1000)] = 1000,
) -> Candles:
    """The latest `limit` closed-or-forming candles of `symbol`/`timeframe` on `exchange`,
    oldest first (as `market:candles`); 503 when the exchange is unreachable."""
    if timeframe not in TIMEFRAMES:
        raise BadRequest(f"unknown timeframe {timeframe!r}; one of {', '.join(TIMEFRAMES)}",
                         field="timeframe")
    assert ctx.query is not None
    src = await ctx.query("market:endpoint", {"exchange": exchange, "testnet": testnet})
    if not src["rest_url"]:
        raise Unavailable(f"exchange {exchange!r} has no known address (is the local "
                          "exchange running?)")
    rows = await _fetch({**src, "symbol": symbol}, bybit_interval(timeframe), limit)
    return {"symbol": symbol, "timeframe": timeframe, "candles": rows}


async def _fetch(src: dict[str, Any], interval: str, limit: int) -> list[Candle]:
    verify: ssl.SSLContext | bool = True
    if src["ca_pem"]:
        verify = ssl.create_default_context(cadata=src["ca_pem"])
    where = f"{src['exchange']}{' testnet' if src['testnet'] else ''} at {src['rest_url']}"
    params = {"category": "linear", "symbol": src["symbol"], "interval": interval,
              "limit": limit}
    try:
        async with httpx.AsyncClient(verify=verify, timeout=TIMEOUT_S) as http:
            response = await http.get(f"{src['rest_url']}/v5/market/kline", params=params)
        body = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise Unavailable(f"the exchange ({where}) is unreachable: {type(exc).__name__}") from None
    if response.status_code != 200 or body.get("retCode") != 0:
        raise Unavailable(f"the exchange ({where}) refused the candles: "
                          f"{body.get('retMsg') or response.status_code}")
    rows = body["result"]["list"]  # newest first
    return [
        {"time": int(row[0]) // 1000, "open": Decimal(row[1]), "high": Decimal(row[2]),
         "low": Decimal(row[3]), "close": Decimal(row[4]), "volume": Decimal(row[5])}
        for row in reversed(rows)
    ]
