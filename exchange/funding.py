"""Funding of linear perpetuals every 8 hours (00:00, 08:00, 16:00 UTC of market time).

Bybit ("Funding Fee Calculation", https://www.bybit.com/en/help-center/article/Funding-fee-calculation;
V5 "Get Funding Rate History", https://bybit-exchange.github.io/docs/v5/market/history-fund-rate):
at each funding time, every open position pays or receives
    funding fee = position value (size × mark price) × funding rate
longs pay shorts when the rate is positive, shorts pay longs when it is negative. The fee
shows in the account's executions as `execType` "Funding" (`execFee` > 0 paid, < 0 received)
and moves the wallet and the position's realised PnL.

The rate of each funding time is a pure function of (seed, symbol, time): a clamped
normal draw around Bybit's 0.01 % base rate, so history and the prediction shown in tickers
agree and the same seed always gives the same series.
"""

from __future__ import annotations

import random
from decimal import Decimal

from exchange.numbers import fmt, fmt_step, money

INTERVAL_MS = 8 * 3_600_000
BASE_RATE = Decimal("0.0001")
CAP = Decimal("0.005")  # upperFundingRate / lowerFundingRate of instruments-info
RATE_QUANT = Decimal("0.000001")


def rate(seed: int, symbol: str, funding_time: int) -> Decimal:
    """The funding rate charged at `funding_time` (a multiple of 8 h)."""
    draw = random.Random(f"funding:{seed}:{symbol}:{funding_time}").gauss(0.0, 0.0001)
    value = BASE_RATE + Decimal(str(draw)).quantize(RATE_QUANT)
    return max(-CAP, min(CAP, value))


def next_time(now: int) -> int:
    """The first funding time strictly after `now`."""
    return now - now % INTERVAL_MS + INTERVAL_MS


def history(
    seed: int, symbol: str, since: int, start: int | None, end: int, limit: int
) -> list[dict]:
    """Funding times in [max(since, start), end], newest first, at most `limit`
    (the rows of market/funding/history)."""
    first = max(since, start or since)
    t = end - end % INTERVAL_MS
    rows = []
    while t >= first and len(rows) < limit:
        rows.append(
            {
                "symbol": symbol,
                "fundingRate": fmt(rate(seed, symbol, t)),
                "fundingRateTimestamp": str(t),
            }
        )
        t -= INTERVAL_MS
    return rows


def execution(
    symbol: str,
    size: Decimal,
    mark: Decimal,
    funding_rate: Decimal,
    fee: Decimal,
    ts: int,
    exec_id: str,
    tick: Decimal,
    step: Decimal,
    seq: int,
) -> dict:
    """The execution record of one funding payment (Bybit's execType "Funding")."""
    value = abs(size) * mark
    return {
        "symbol": symbol,
        "orderId": "",
        "orderLinkId": "",
        "side": "Buy" if size > 0 else "Sell",
        "orderPrice": "0",
        "orderQty": "0",
        "leavesQty": "0",
        "createType": "",
        "orderType": "UNKNOWN",
        "stopOrderType": "",
        "execFee": fmt(fee),
        "execId": exec_id,
        "execPrice": fmt_step(mark, tick),
        "execQty": fmt_step(abs(size), step),
        "execType": "Funding",
        "execValue": money(value),
        "execTime": str(ts),
        "execPnl": "0",
        "feeCurrency": "",
        "isMaker": False,
        "feeRate": fmt(funding_rate),
        "tradeIv": "",
        "markIv": "",
        "markPrice": fmt_step(mark, tick),
        "indexPrice": fmt_step(mark, tick),
        "underlyingPrice": "",
        "blockTradeId": "",
        "closedSize": "0",
        "extraFees": "",
        "seq": seq,
        "category": "linear",
        "isLeverage": "",
    }
