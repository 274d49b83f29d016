"""Warm-up history pages backwards through market/kline and returns closed candles oldest
first (served here by a small in-process kline endpoint)."""

import itertools
from decimal import Decimal

import httpx

from bot.bybit.rest import BybitRest
from bot.market_data import fetch_history

STEP = 60_000
NOW = 1_700_000_000_000 + 30_000  # half-way through a candle


def kline_endpoint(calls: list[dict]):
    first = NOW - 5000 * STEP

    def handle(request: httpx.Request) -> httpx.Response:
        q = dict(request.url.params)
        calls.append(q)
        end, limit = int(q["end"]), int(q["limit"])
        starts = [s for s in range(first - first % STEP, NOW, STEP) if s <= end]
        rows = [
            [str(s), "1", "2", "0.5", str(s // STEP), "10", "10"] for s in reversed(starts[-limit:])
        ]
        return httpx.Response(
            200, json={"retCode": 0, "retMsg": "OK", "result": {"category": "linear", "list": rows}}
        )

    return handle


async def test_history_is_paginated_closed_and_oldest_first():
    calls: list[dict] = []
    async with BybitRest(
        "https://x.invalid", transport=httpx.MockTransport(kline_endpoint(calls))
    ) as rest:
        candles = await fetch_history(rest, "BTCUSDT", 2500, now_ms=NOW)
    assert len(candles) == 2500 and len(calls) == 3
    starts = [c.open_time_ms for c in candles]
    assert starts == sorted(starts) and len(set(starts)) == 2500
    assert starts[-1] + STEP <= NOW  # the forming candle is excluded
    assert all(b - a == STEP for a, b in itertools.pairwise(starts))
    assert candles[-1].close == Decimal(starts[-1] // STEP)
    assert calls[0]["interval"] == "1"


async def test_short_history_returns_what_exists():
    async with BybitRest(
        "https://x.invalid", transport=httpx.MockTransport(kline_endpoint([]))
    ) as rest:
        candles = await fetch_history(rest, "BTCUSDT", 9000, now_ms=NOW)
    assert 4990 <= len(candles) <= 5000
