"""Bybit V5 shapes of market data, shared by the REST routes and the public WebSocket:
instrument info, tickers, kline rows and messages, public trades and book levels."""

from __future__ import annotations

from decimal import Decimal

from exchange import funding
from exchange.config import InstrumentSpec
from exchange.market.candles import Candle
from exchange.market.symbol import PublicTrade, SymbolMarket
from exchange.numbers import fmt, fmt_step


def instrument(spec: InstrumentSpec, launch_ms: int) -> dict:
    decimals = max(0, -spec.tick_size.as_tuple().exponent)
    return {
        "symbol": spec.symbol,
        "contractType": "LinearPerpetual",
        "status": "Trading",
        "baseCoin": spec.base_coin,
        "quoteCoin": spec.quote_coin,
        "launchTime": str(launch_ms),
        "deliveryTime": "0",
        "deliveryFeeRate": "",
        "priceScale": str(decimals),
        "leverageFilter": {
            "minLeverage": "1",
            "maxLeverage": fmt_step(spec.max_leverage, Decimal("0.01")),
            "leverageStep": "0.01",
        },
        "priceFilter": {
            "minPrice": fmt_step(spec.tick_size, spec.tick_size),
            "maxPrice": fmt_step(spec.start_price * 100, spec.tick_size),
            "tickSize": fmt_step(spec.tick_size, spec.tick_size),
        },
        "lotSizeFilter": {
            "maxOrderQty": fmt_step(spec.max_qty, spec.qty_step),
            "minOrderQty": fmt_step(spec.min_qty, spec.qty_step),
            "qtyStep": fmt_step(spec.qty_step, spec.qty_step),
            "postOnlyMaxOrderQty": fmt_step(spec.max_qty, spec.qty_step),
            "maxMktOrderQty": fmt_step(spec.max_market_qty, spec.qty_step),
            "minNotionalValue": fmt(spec.min_notional),
        },
        "unifiedMarginTrade": True,
        "fundingInterval": funding.INTERVAL_MS // 60_000,
        "settleCoin": spec.quote_coin,
        "copyTrading": "both",
        "upperFundingRate": fmt(funding.CAP),
        "lowerFundingRate": fmt(-funding.CAP),
        "riskParameters": {
            "priceLimitRatioX": fmt(spec.price_limit_x),
            "priceLimitRatioY": fmt(spec.price_limit_y),
        },
        "isPreListing": False,
        "preListingInfo": None,
    }


def ticker(market: SymbolMarket, now: int, seed: int) -> dict:
    spec = market.spec
    stats = market.stats_24h(now)
    (bid, bid_size), (ask, ask_size) = market.book.best()
    last = market.last_price
    pct = (last - stats["prev24h"]) / stats["prev24h"] if stats["prev24h"] else Decimal(0)
    p = lambda v: fmt_step(v, spec.tick_size)
    return {
        "symbol": spec.symbol,
        "tickDirection": market.prev_tick_direction,
        "lastPrice": p(last),
        "indexPrice": p(last),
        "markPrice": p(last),
        "prevPrice24h": p(stats["prev24h"]),
        "price24hPcnt": fmt(pct.quantize(Decimal("0.000001"))),
        "highPrice24h": p(stats["high"]),
        "lowPrice24h": p(stats["low"]),
        "prevPrice1h": p(stats["prev1h"]),
        "openInterest": "0",
        "openInterestValue": "0",
        "turnover24h": fmt(stats["turnover"].quantize(Decimal("0.0001"))),
        "volume24h": fmt_step(stats["volume"], spec.qty_step),
        "fundingRate": fmt(funding.rate(seed, spec.symbol, funding.next_time(now))),
        "nextFundingTime": str(funding.next_time(now)),
        "predictedDeliveryPrice": "",
        "basisRate": "",
        "deliveryFeeRate": "",
        "deliveryTime": "0",
        "bid1Price": p(bid),
        "bid1Size": fmt_step(bid_size, spec.qty_step),
        "ask1Price": p(ask),
        "ask1Size": fmt_step(ask_size, spec.qty_step),
        "basis": "",
        "fundingIntervalHour": str(funding.INTERVAL_MS // 3_600_000),
        "fundingCap": fmt(funding.CAP),
    }


def kline_row(candle: Candle, spec: InstrumentSpec) -> list[str]:
    """[startTime, open, high, low, close, volume, turnover] as market/kline lists it."""
    p = lambda v: fmt_step(v, spec.tick_size)
    return [
        str(candle.start),
        p(candle.open),
        p(candle.high),
        p(candle.low),
        p(candle.close),
        fmt_step(candle.volume, spec.qty_step),
        fmt(candle.turnover),
    ]


def kline_entry(
    candle: Candle, interval: str, confirm: bool, ts: int, spec: InstrumentSpec
) -> dict:
    """One element of a `kline.{interval}.{symbol}` message."""
    _, o, h, low, c, v, turnover = kline_row(candle, spec)
    return {
        "start": candle.start,
        "end": candle.end,
        "interval": interval,
        "open": o,
        "close": c,
        "high": h,
        "low": low,
        "volume": v,
        "turnover": turnover,
        "confirm": confirm,
        "timestamp": ts,
    }


def trade_entry(trade: PublicTrade, spec: InstrumentSpec, seq: int) -> dict:
    """One element of a `publicTrade.{symbol}` message."""
    return {
        "T": trade.ts,
        "s": trade.symbol,
        "S": trade.side,
        "v": fmt_step(trade.qty, spec.qty_step),
        "p": fmt_step(trade.price, spec.tick_size),
        "L": trade.tick_direction,
        "i": trade.trade_id,
        "BT": False,
        "RPI": False,
        "seq": seq,
    }


def levels(pairs, spec: InstrumentSpec) -> list[list[str]]:
    return [[fmt_step(p, spec.tick_size), fmt_step(q, spec.qty_step)] for p, q in pairs]
