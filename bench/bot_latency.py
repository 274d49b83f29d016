"""Bot latency: candle close on the exchange → the bot's order received by the exchange.

The real bot pipeline (cryptofeed candles → `Trader.on_candle` → evaluator → signed REST
order with its orderLinkId) against the local exchange on the manual clock, in a thread of
this process, so both ends read one clock (`time.perf_counter_ns`):

* candle close: the exchange processes the market step that ends a minute (the kline
  ``confirm`` message is queued to the bot's socket in that step);
* order received: the exchange's matching engine receives the order (after TLS, HTTP,
  signature and rate-limit checks).

The template enters on a fast MA trend and leaves after one bar, so nearly every candle
places an order (entry, exit, entry, ...). Reports go to a real on-disk outbox (their
delivery is off the critical path and not measured). Baseline in the same run: the round
trip of one signed order/create by the same REST client (the exchange's own share).

Run: python bench/bot_latency.py [--candles 800]  (about 2 minutes)
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from bot.adoption import adopt
from bot.bybit import convert
from bot.bybit.private_ws import PrivateStream
from bot.bybit.rest import BybitRest
from bot.bybit.signing import Credentials
from bot.bybit.venue import BybitVenue
from bot.live_strategy import build_strategy
from bot.market_data import MarketFeed, fetch_history
from bot.order_ids import order_link_id
from bot.outbox import Outbox
from bot.positions import AccountModel
from bot.reporting import Reporter
from bot.trader import Trader
from exchange.config import ExchangeConfig
from exchange.testing import ExchangeThread

SYMBOL = "BTCUSDT"
MINUTE = 60_000
PACE_S = 0.12
TEMPLATE = {
    "schema_version": 1,
    "name": "bench",
    "symbol": SYMBOL,
    "timeframe": "1m",
    "long_enabled": True,
    "short_enabled": True,
    "signals": [
        {"type": "ma_cross", "params": {"fast": 2, "slow": 5, "ma": "ema", "mode": "trend"}}
    ],
    "exits": [{"type": "time_exit", "params": {"max_bars": 1}}],
    "combination": {"mode": "weighted_sum", "threshold": 1.0},
    "risk": {
        "sizing": {"mode": "fixed_quantity", "value": 0.001},
        "leverage": 1,
        "max_open_positions": 1,
        "daily_loss_limit": {"mode": "fraction", "value": 0.99},
    },
}


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


class Stamps:
    """Exchange-side timestamps, written on the exchange's thread."""

    def __init__(self) -> None:
        self.closes: dict[int, int] = {}
        self.orders: list[int] = []

    def install(self, runner: ExchangeThread) -> None:
        exchange = runner.server.exchange
        assert exchange is not None

        def on_step(market, step) -> None:
            ts = exchange.now()
            if ts % MINUTE == 0:
                self.closes[ts - MINUTE] = time.perf_counter_ns()

        place = exchange.matching.place

        def stamped_place(*args, **kwargs):
            self.orders.append(time.perf_counter_ns())
            return place(*args, **kwargs)

        def setup() -> None:
            exchange.public_listeners.append(on_step)
            exchange.matching.place = stamped_place  # type: ignore[method-assign]

        runner.call(setup)


async def run(candles: int) -> None:
    runner = ExchangeThread(
        ExchangeConfig(
            clock="manual", symbols=(SYMBOL,), seed=3, starting_balance=Decimal(1_000_000)
        )
    )
    server = runner.start()
    stamps = Stamps()
    stamps.install(runner)
    creds = Credentials(server.config.api_key, server.config.api_secret)
    workdir = Path(tempfile.mkdtemp(prefix="plutarc-bench-bot-"))
    rest = BybitRest(server.rest_url, creds, ca=server.ca_file)
    try:
        query = {"category": "linear", "symbol": SYMBOL}
        instruments = (await rest.get("/v5/market/instruments-info", query))["list"]
        instrument = convert.instrument(instruments[0])

        async def discard(path: str, args: dict) -> None:
            return None

        reporter = Reporter(Outbox(workdir / "outbox.sqlite"), discard, "bench")
        trader = Trader(
            bot_id="bench-bot",
            timeframe_ms=MINUTE,
            venue=BybitVenue(rest, instrument),
            instrument=instrument,
            account=AccountModel(SYMBOL),
            reporter=reporter,
            workdir=workdir,
        )

        async def on_private(msg: dict) -> None:
            if fresh := trader.account.apply(convert.account_update(msg)):
                trader.on_fills(fresh)

        stream = PrivateStream(
            server.ws_private_url, creds, on_private, ca=server.ca_file, now_ms=rest.now_ms
        )
        tasks = [asyncio.create_task(stream.run())]
        await stream.ready.wait()
        await adopt(trader)
        history = await fetch_history(rest, SYMBOL, 50)
        trader.history.extend(history)
        trader.last_candle_ms = history[-1].open_time_ms
        await trader.use_strategy(build_strategy(1, TEMPLATE, trader.instrument.qty_step, history))
        arrivals: dict[int, int] = {}
        sent: list[int] = []
        post_once = rest.post_once

        async def stamped_post_once(path: str, body: dict) -> dict:
            sent.append(time.perf_counter_ns())
            return await post_once(path, body)

        rest.post_once = stamped_post_once  # type: ignore[method-assign]

        async def on_candle(candle):
            arrivals[candle.open_time_ms] = time.perf_counter_ns()
            return await trader.on_candle(candle)

        feed = MarketFeed(
            server.rest_url, server.ws_public_url, SYMBOL, instruments, on_candle, ca=server.ca_file
        )
        tasks.append(asyncio.create_task(feed.run()))
        hub = server.hub
        while not runner.call(lambda: bool(hub._public.get(f"kline.1.{SYMBOL}"))):
            await asyncio.sleep(0.01)

        latencies: list[float] = []
        feed_part: list[float] = []
        bot_part: list[float] = []
        for i in range(candles):
            # Candles are paced below the order-create rate limit (10/s): on 1m candles the
            # limiter never waits, and the bench must not measure it waiting.
            await asyncio.sleep(PACE_S)
            orders_before, sent_before = len(stamps.orders), len(sent)
            runner.call(server.exchange.advance_clock, MINUTE)
            await trader.wait_candles(i + 1, 30)
            if len(stamps.orders) > orders_before:
                close = stamps.closes[trader.last_candle_ms]
                latencies.append((stamps.orders[orders_before] - close) / 1e6)
                arrived = arrivals[trader.last_candle_ms]
                feed_part.append((arrived - close) / 1e6)
                bot_part.append((sent[sent_before] - arrived) / 1e6)

        baseline: list[float] = []
        for n in range(100):
            body = {
                "category": "linear",
                "symbol": SYMBOL,
                "side": "Buy",
                "orderType": "Limit",
                "qty": Decimal("0.001"),
                "price": Decimal("10000.0"),
                "timeInForce": "GTC",
                "orderLinkId": order_link_id("bench-baseline", n, "b"),
            }
            await asyncio.sleep(PACE_S)
            started = time.perf_counter_ns()
            await rest.post_once("/v5/order/create", body)
            baseline.append((time.perf_counter_ns() - started) / 1e6)

        feed.stop()
        await stream.stop()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    finally:
        await rest.aclose()
        runner.stop()

    p50, p99 = percentile(latencies, 50), percentile(latencies, 99)
    b50, b99 = percentile(baseline, 50), percentile(baseline, 99)
    decide = [total - feed for total, feed in zip(latencies, feed_part, strict=True)]
    if len(latencies) < 500:
        print(f"WARNING: only {len(latencies)} candles placed an order; use more --candles")
    print(f"candles: {candles}, with an order: {len(latencies)}")
    print(
        f"candle close -> order received:   p50 {p50:6.2f} ms   p99 {p99:6.2f} ms   "
        f"mean {statistics.fmean(latencies):6.2f} ms"
    )
    print(
        f"  of which close -> bot callback: p50 {percentile(feed_part, 50):6.2f} ms   "
        f"p99 {percentile(feed_part, 99):6.2f} ms  (exchange WS + cryptofeed)"
    )
    print(
        f"  of which callback -> received:  p50 {percentile(decide, 50):6.2f} ms   "
        f"p99 {percentile(decide, 99):6.2f} ms  (decision + signed REST request)"
    )
    print(
        f"  bot alone, callback -> request: p50 {percentile(bot_part, 50):6.2f} ms   "
        f"p99 {percentile(bot_part, 99):6.2f} ms  (decision, sizing, rounding, signing)"
    )
    print(f"baseline signed order/create RTT: p50 {b50:6.2f} ms   p99 {b99:6.2f} ms")
    print(f"ratio to baseline:                p50 {p50 / b50:6.2f}x    p99 {p99 / b99:6.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candles", type=int, default=800)
    args = parser.parse_args()
    import uvloop

    uvloop.run(run(args.candles))


if __name__ == "__main__":
    main()
