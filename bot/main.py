"""The bot process: `run_bot(backend_url, token, data_key, workdir)`.

It holds no state of its own beyond its working directory (the outbox of undelivered
reports, the last config, the open trade's bookkeeping). Start-up:

1. subscribe to `bot:config`; if the backend does not answer in time, trade on the config
   cached on disk (and say so in an event once the backend is back);
2. open the exchange secret with the data key, measure the exchange clock, read the
   instrument, start the private stream, then adopt what the exchange holds (position, orphan
   orders, trade numbering);
3. fetch the warm-up history over REST, warm the template's evaluator ("warming up" until the
   lookback is covered);
4. run: closed candles from cryptofeed → `Trader.on_candle`; config changes → next candle;
   reports flushed in order; heartbeats; periodic REST reconciliation.

It ends on `stop` (SIGTERM/SIGINT from the CLI) or when its desired state becomes ``stop``
(positions closed first when ``close_positions``), after flushing its reports; a revoked
token ends it too.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from backend.client import Client, ClientError
from bot import config_cache
from bot.adoption import adopt
from bot.bybit import convert
from bot.bybit.private_ws import PrivateStream
from bot.bybit.rest import BybitRest
from bot.bybit.signing import Credentials
from bot.bybit.venue import BybitVenue
from bot.heartbeat import Heartbeat
from bot.live_strategy import Strategy, build_strategy
from bot.market_data import MarketFeed, fetch_history
from bot.outbox import Outbox
from bot.positions import AccountModel
from bot.reporting import Reporter
from bot.secrets import open_secret
from bot.trader import Trader
from bot.venue import VenueError
from strategy.template import TemplateError
from strategy.template.model import TIMEFRAMES

log = logging.getLogger(__name__)
UNDELIVERED = 3  # exit code: stopped, but reports are still waiting in the outbox


@dataclass
class BotOptions:
    """Timings; the defaults are for production, tests shorten them."""

    config_timeout_s: float = 10.0
    heartbeat_s: float = 5.0
    reconcile_s: float = 30.0
    drain_s: float = 15.0
    rest_timeout_s: float = 10.0


class Bot:
    """One running bot; `run()` returns when it has stopped and flushed."""

    def __init__(
        self,
        backend_url: str,
        token: str,
        data_key: bytes,
        workdir: Path,
        options: BotOptions | None = None,
        stop: asyncio.Event | None = None,
    ) -> None:
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.options = options or BotOptions()
        self.stop = stop or asyncio.Event()
        self.client = Client(backend_url, token)
        self._data_key = data_key
        self.run_tag = str(int(time.time() * 1000))
        self.outbox = Outbox(self.workdir / "outbox.sqlite")
        self.reporter = Reporter(self.outbox, self.client.mutation, self.run_tag)
        self.cache_path = self.workdir / "config.json"
        self.config: dict[str, Any] = {}
        self.trader: Trader | None = None
        self.rest: BybitRest | None = None  # market data (history) and the venue's client
        self.stream: PrivateStream | None = None
        self.heartbeat: Heartbeat | None = None
        self.ready = asyncio.Event()
        self.offline_since: float | None = None
        self._tasks: list[asyncio.Task[Any]] = []

    # configuration ----------------------------------------------------------------------------

    async def _first_config(self, sub: Any) -> dict[str, Any] | None:
        """The live config, else (after the timeout) the cached one; None if stopped first."""
        first = asyncio.ensure_future(anext(sub))
        stopped = asyncio.ensure_future(self.stop.wait())
        try:
            done, _ = await asyncio.wait(
                {first, stopped},
                timeout=self.options.config_timeout_s,
                return_when=asyncio.FIRST_COMPLETED,
            )
            if not done:
                cached = config_cache.load(self.cache_path)
                if cached is not None:
                    log.warning("backend unreachable: trading on the cached config")
                    self.offline_since = time.monotonic()
                    return cached
                log.warning("backend unreachable and no cached config: waiting for it")
                await asyncio.wait({first, stopped}, return_when=asyncio.FIRST_COMPLETED)
            return first.result() if first.done() else None
        finally:
            first.cancel()
            stopped.cancel()

    async def _follow_config(self, sub: Any) -> None:
        try:
            async for config in sub:
                config_cache.save(self.cache_path, config)
                await self._apply(config)
        except ClientError as exc:
            log.error("config subscription ended: %s", exc)
            self.stop.set()

    async def _apply(self, config: dict[str, Any]) -> None:
        old, self.config = self.config, config
        trader = self.trader
        assert trader is not None
        if config.get("template_version") != old.get("template_version") or config.get(
            "template"
        ) != old.get("template"):
            try:
                strategy = await self._strategy(config)
            except (TemplateError, ValueError, VenueError) as exc:
                self.reporter.event(
                    "config_rejected",
                    f"template version {config.get('template_version')} not usable ({exc}); "
                    "still trading the previous one",
                    level="error",
                )
                return
            await trader.use_strategy(strategy)
            self.reporter.event(
                "config_changed",
                f"template version {strategy.version} received; it takes effect at the next candle",
                data={"template_version": strategy.version},
                key=f"config:template:{strategy.version}:{self.run_tag}",
            )
        desired = config.get("desired_state", "run")
        if desired != trader.desired_state:
            self.reporter.event(
                "config_changed",
                f"desired state {trader.desired_state} → {desired}",
                data={"desired_state": desired},
            )
            trader.desired_state = desired
        if desired == "stop":
            await self._stop_trading(bool(config.get("close_positions", True)))

    async def _strategy(self, config: dict[str, Any]) -> Strategy:
        """Build the config's template, warmed on recent candles (fetched if too few).

        Warm-up rule: the evaluator is warmed on its ``parity_history`` candles (the minimum
        for a first decision plus what its recursive indicators need to forget their start,
        ``strategy.indicators.memory``), fetched over REST in pages when the trader holds
        fewer; it then decides as a backtest that started long before.
        """
        trader = self.trader
        assert trader is not None
        probe = build_strategy(
            config["template_version"], config["template"], trader.instrument.qty_step, []
        )
        need = probe.evaluator.parity_history
        trader.keep_history(need)
        assert self.rest is not None
        if len(trader.history) < need:
            candles = await fetch_history(
                self.rest, trader.symbol, need + 5, interval=self.timeframe
            )
            known = {c.open_time_ms for c in trader.history}
            merged = sorted(
                [*trader.history, *(c for c in candles if c.open_time_ms not in known)],
                key=lambda c: c.open_time_ms,
            )
            trader.history.clear()
            trader.history.extend(merged)
            trader.last_candle_ms = max(
                trader.last_candle_ms, merged[-1].open_time_ms if merged else 0
            )
        history = list(trader.history)[-max(need, 1) :]
        strategy = build_strategy(
            config["template_version"], config["template"], trader.instrument.qty_step, history
        )
        if len(history) < need:
            self.reporter.event(
                "warming_up",
                f"warming up: {len(history)}/{need} candles of history (decisions from "
                f"{probe.evaluator.warmup}; equal to a backtest's from {need})",
                key=f"warming:{strategy.version}:{self.run_tag}",
            )
        return strategy

    async def _stop_trading(self, close_positions: bool) -> None:
        trader = self.trader
        assert trader is not None
        async with trader.lock:
            if close_positions and trader.account.position.size:
                await trader.exit("stop")
            # the final positions snapshot, so the backend's open positions stay true; later
            # than every candle's (market-clock) snapshot, which may run ahead of the wall
            at_ms = max(int(time.time() * 1000), trader.last_candle_ms + trader.timeframe_ms + 1)
            price = trader.history[-1].close if trader.history else trader.account.position.avg_price
            self.reporter.positions(at_ms, at_ms, trader.position_rows(price))
        self.reporter.event(
            "stopping",
            "desired state stop: "
            + ("positions closed" if close_positions else "positions kept")
            + "; flushing reports and exiting",
            key=f"stop:{self.run_tag}",
        )
        self.stop.set()

    @property
    def timeframe(self) -> str:
        return (self.config.get("template") or {}).get("timeframe") or "1m"

    # exchange ---------------------------------------------------------------------------------

    async def _connect_exchange(self) -> tuple[BybitRest, Credentials, list[dict[str, Any]]]:
        ex = self.config["exchange"]
        creds = Credentials(ex["api_key"], open_secret(ex["wrapped_secret"], self._data_key))
        rest = BybitRest(
            ex["rest_url"], creds, ca=ex.get("ca_pem"), timeout_s=self.options.rest_timeout_s
        )
        await rest.sync_time()
        # a key the exchange refuses fails here, at once, rather than in the stream's retries
        await rest.get("/v5/account/wallet-balance", {"accountType": "UNIFIED"}, signed=True)
        result = await rest.get(
            "/v5/market/instruments-info", {"category": "linear", "symbol": self.config["symbol"]}
        )
        return rest, creds, result.get("list", [])

    async def _on_private(self, msg: dict[str, Any]) -> None:
        trader = self.trader
        if trader is None:
            return
        fresh = trader.account.apply(convert.account_update(msg))
        if fresh:
            trader.on_fills(fresh)

    async def _on_private_reconnect(self) -> None:
        trader = self.trader
        if trader is None:
            return
        self.reporter.event("reconnected", "private stream reconnected; reconciling over REST")
        async with trader.lock:
            await trader.reconcile("after private stream reconnect")

    async def _reconcile_loop(self) -> None:
        trader = self.trader
        assert trader is not None
        while not self.stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stop.wait(), self.options.reconcile_s)
            if self.stop.is_set():
                return
            try:
                async with trader.lock:
                    await trader.reconcile("periodic reconciliation")
                    await trader.refresh_wallet()
            except VenueError as exc:
                log.warning("reconciliation failed: %s", exc)

    async def _watch_backend(self) -> None:
        """Say in an event how long the backend was away once it is back."""
        was_up = self.client.connected.is_set()
        while not self.stop.is_set():
            up = self.client.connected.is_set()
            if was_up and not up:
                self.offline_since = time.monotonic()
            elif up and self.offline_since is not None:
                away = time.monotonic() - self.offline_since
                self.offline_since = None
                self.reporter.event(
                    "backend_reconnected",
                    f"backend unreachable for {away:.1f}s; kept trading on "
                    f"the cached config (template v{self.config.get('template_version')}, "
                    f"desired {self.config.get('desired_state')}); held reports follow",
                    level="warning",
                    data={"seconds": round(away, 1), "queued_reports": len(self.outbox)},
                )
            was_up = up
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stop.wait(), 0.2)

    # the run ----------------------------------------------------------------------------------

    async def run(self) -> int:
        """Trade until stopped; the exit code is `UNDELIVERED` when reports could not be
        delivered before exiting (they stay in the outbox for the next start)."""
        sub = self.client.subscribe("bot:config", {})
        code = 0
        try:
            config = await self._first_config(sub)
            if config is not None:
                self.config = config
                if self.config.get("exchange") is None:
                    raise RuntimeError("the bot's config names no exchange (no API key?)")
                code = await self._trade(sub)
        finally:
            for task in self._tasks:
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            delivered = await self.reporter.drain(self.options.drain_s)
            await self.client.close()
            self.outbox.close()
        if not delivered:
            log.error("exiting with reports undelivered (kept in %s)", self.outbox.path)
            return UNDELIVERED
        return code

    async def _trade(self, sub: Any) -> int:
        config = self.config
        rest, creds, instruments = await self._connect_exchange()
        self.rest = rest
        ex, symbol = config["exchange"], config["symbol"]
        timeframe_ms = TIMEFRAMES[self.timeframe]
        instrument = convert.instrument(instruments[0])
        self.trader = trader = Trader(
            bot_id=str(config["bot_id"]),
            timeframe_ms=timeframe_ms,
            venue=BybitVenue(rest, instrument),
            instrument=instrument,
            account=AccountModel(symbol),
            reporter=self.reporter,
            workdir=self.workdir,
        )
        trader.desired_state = config.get("desired_state", "run")
        stream = PrivateStream(
            ex["ws_private_url"],
            creds,
            self._on_private,
            on_reconnect=self._on_private_reconnect,
            ca=ex.get("ca_pem"),
            now_ms=rest.now_ms,
            resync_clock=rest.sync_time,
        )
        self.stream = stream
        spawn = self._spawn
        spawn(stream.run(), "private-stream")
        await asyncio.wait_for(stream.ready.wait(), 30)
        await adopt(trader)
        await trader.use_strategy(await self._strategy(config))
        feed = MarketFeed(
            ex["rest_url"],
            ex["ws_public_url"],
            symbol,
            instruments,
            trader.on_candle,
            interval=self.timeframe,
            ca=ex.get("ca_pem"),
            on_book_top=trader.on_book_top if _uses_spread(config) else None,
        )
        heartbeat = Heartbeat(
            self.client.mutation, rest.latency_ms, self.run_tag, self.options.heartbeat_s
        )
        self.heartbeat = heartbeat
        spawn(feed.run(), "market-feed")
        spawn(self.reporter.run(self.stop), "reporter")
        spawn(heartbeat.run(self.stop), "heartbeat")
        spawn(self._reconcile_loop(), "reconcile")
        spawn(self._watch_backend(), "backend-watch")
        self.reporter.event(
            "started",
            f"bot started on {symbol} {self.timeframe} (template "
            f"v{config.get('template_version')}, desired "
            f"{trader.desired_state})",
            key=f"started:{self.run_tag}",
        )
        if trader.desired_state == "stop":
            await self._stop_trading(bool(config.get("close_positions", True)))
        else:
            spawn(self._follow_config(sub), "config")
        self.ready.set()
        try:
            await self.stop.wait()
        finally:
            feed.stop()
            await stream.stop()
            async with trader.lock:  # let a trading step in progress finish
                pass
            await rest.aclose()
        return 0

    def _spawn(self, coro: Any, name: str) -> None:
        task = asyncio.create_task(coro, name=f"bot-{name}")
        task.add_done_callback(self._task_done)
        self._tasks.append(task)

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        if task.cancelled() or task.exception() is None:
            return
        log.error("%s failed: %r", task.get_name(), task.exception(), exc_info=task.exception())
        self.stop.set()


def _uses_spread(config: dict[str, Any]) -> bool:
    """Whether the template filters on the spread (then the bot follows the order book)."""
    filters = (config.get("template") or {}).get("filters") or []
    return any(f.get("type") == "spread" for f in filters)


async def run_bot(
    backend_url: str,
    token: str,
    data_key: bytes,
    workdir: Path,
    options: BotOptions | None = None,
    stop: asyncio.Event | None = None,
) -> int:
    """Run the bot until it is stopped; returns the process exit code."""
    return await Bot(backend_url, token, data_key, workdir, options, stop).run()
