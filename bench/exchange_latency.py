"""Local exchange: market step cost and REST round trips over TLS on loopback.

Baselines measured in the same run: a history step (price path, trades, candles, no book) for
the live market step, and the unsigned `GET /v5/market/time` for signed order placement and
signed reads. Run: python bench/exchange_latency.py
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from exchange.config import ExchangeConfig
from exchange.engine import Exchange
from exchange.orders import parse_create
from exchange.server import ExchangeServer
from exchange.tls import client_context


def _per_step_us(fn, n: int) -> float:
    started = time.perf_counter()
    for i in range(n):
        fn(i)
    return (time.perf_counter() - started) / n * 1e6


def bench_steps() -> None:
    ex = Exchange(ExchangeConfig(clock="manual", history_candles=10))
    market = ex.markets["BTCUSDT"]
    base = ex.last_step
    history = _per_step_us(lambda i: market.step(base + (i + 1) * 5000, book=False), 3000)
    live = _per_step_us(lambda i: ex.advance_clock(ms=5000), 3000) / len(ex.markets)
    print(f"market step, history (baseline): {history:8.1f} us")
    print(f"market step, live with book:     {live:8.1f} us  ({live / history:.1f}x)")
    print(
        f"  => a wall-clock market at speed 60 uses {live * 12 * 2 / 1e4:.2f}% of a core for 2 symbols"
    )
    busy = _busy_exchange(ACCOUNTS)
    loaded = _per_step_us(lambda i: busy.advance_clock(ms=5000), 1000) / len(busy.markets)
    print(
        f"market step, {ACCOUNTS} accounts with a position and 2 waiting conditional orders "
        f"each: {loaded:8.1f} us  ({loaded / live:.1f}x the live step)"
    )


ACCOUNTS = 50


def _busy_exchange(accounts: int) -> Exchange:
    """Every account holds a BTC position (liquidation checks each step) and two conditional
    orders far from the price (trigger checks each step)."""
    ex = Exchange(ExchangeConfig(clock="manual", history_candles=10, starting_balance=10**6))
    spec = ex.markets["BTCUSDT"].spec
    last = ex.markets["BTCUSDT"].last_price
    for _ in range(accounts):
        account = ex.create_account()
        ex.matching.place(account, "BTCUSDT", parse_create(_order("Buy", None), spec))
        for side, trigger, direction in (("Sell", last / 2, 2), ("Buy", last * 2, 1)):
            body = _order(
                side,
                {
                    "triggerPrice": str(int(trigger)),
                    "triggerDirection": direction,
                },
            )
            ex.matching.place(account, "BTCUSDT", parse_create(body, spec))
    return ex


def _order(side: str, extra: dict | None) -> dict:
    return {"side": side, "orderType": "Market", "qty": "0.010", **(extra or {})}


def _headers(cfg: ExchangeConfig, payload: str) -> dict:
    ts = str(int(time.time() * 1000))
    sign = hmac.new(
        cfg.api_secret.encode(), (ts + cfg.api_key + "5000" + payload).encode(), hashlib.sha256
    ).hexdigest()
    return {
        "X-BAPI-API-KEY": cfg.api_key,
        "X-BAPI-TIMESTAMP": ts,
        "X-BAPI-SIGN": sign,
        "X-BAPI-RECV-WINDOW": "5000",
        "Content-Type": "application/json",
    }


async def _median_ms(call, n: int) -> float:
    samples = []
    for _ in range(n):
        started = time.perf_counter()
        await call()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


async def bench_rest() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        cfg = ExchangeConfig(
            clock="manual",
            ca_file=Path(tmp) / "ca.pem",
            history_candles=10,
            starting_balance=10_000_000,
        )
        async with (
            ExchangeServer(cfg) as server,
            httpx.AsyncClient(
                base_url=server.rest_url, verify=client_context(server.ca_file)
            ) as http,
        ):
            body = json.dumps(
                {
                    "category": "linear",
                    "symbol": "BTCUSDT",
                    "side": "Buy",
                    "orderType": "Limit",
                    "qty": "0.001",
                    "price": "10000",
                }
            )
            query = "category=linear&symbol=BTCUSDT"

            async def create():
                await asyncio.sleep(0.11)  # stay under 10 orders/s
                started = time.perf_counter()
                await http.post("/v5/order/create", content=body, headers=_headers(cfg, body))
                return time.perf_counter() - started

            base = await _median_ms(lambda: http.get("/v5/market/time"), 200)
            read = await _median_ms(
                lambda: http.get(f"/v5/position/list?{query}", headers=_headers(cfg, query)), 200
            )
            creates = [await create() * 1000 for _ in range(30)]
            placed = statistics.median(creates)
    print(f"GET market/time (baseline):      {base:8.2f} ms")
    print(f"signed GET position/list:        {read:8.2f} ms  ({read / base:.2f}x)")
    print(f"signed POST order/create:        {placed:8.2f} ms  ({placed / base:.2f}x)")


if __name__ == "__main__":
    bench_steps()
    asyncio.run(bench_rest())
