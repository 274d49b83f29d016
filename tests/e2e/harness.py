"""The end-to-end world: a real backend (restartable on a fixed port) and database, the local
exchange on the manual clock, a trader with an API key, a strategy and a deployed bot, and
the judges: the exchange's own order and execution lists and the backend's tables.

The exchange runs on the test's event loop (its manual clock moves only when a test says),
the backend in a thread; the bot either as a task on the test's loop (`start_bot`) or as a
real process through the local provider.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from backend.app import create_app
from bot.main import Bot, BotOptions
from exchange.admin import AdminClient
from exchange.server import ExchangeServer
from infra.providers.base import Backend
from tests.support.servers import ServerThread, free_port

SYMBOL = "BTCUSDT"
MINUTE = 60_000
KLINE_TOPIC = f"kline.1.{SYMBOL}"
FAST_OPTIONS = BotOptions(
    config_timeout_s=3.0, heartbeat_s=0.5, reconcile_s=2.0, drain_s=10.0, rest_timeout_s=2.0
)


def template(
    fast: int = 2, slow: int = 5, name: str = "e2e fast cross", max_bars: int = 3
) -> dict[str, Any]:
    """A moving-average cross that trades often on the seeded path (1m candles)."""
    return {
        "schema_version": 1,
        "name": name,
        "symbol": SYMBOL,
        "timeframe": "1m",
        "long_enabled": True,
        "short_enabled": True,
        "signals": [
            {
                "type": "ma_cross",
                "weight": 1.0,
                "params": {"fast": fast, "slow": slow, "ma": "ema", "mode": "trend"},
            }
        ],
        "exits": [
            {"type": "opposite_signal", "params": {}},
            {"type": "time_exit", "params": {"max_bars": max_bars}},
        ],
        "combination": {"mode": "weighted_sum", "threshold": 1.0},
        "risk": {
            "sizing": {"mode": "fixed_quantity", "value": 0.01},
            "leverage": 1,
            "max_open_positions": 1,
            "daily_loss_limit": {"mode": "fraction", "value": 0.9},
        },
    }


class BackendServer:
    """The API on a fixed loopback port, stoppable and restartable (same URL)."""

    def __init__(self, dsn: str, services: list[Any] | None = None) -> None:
        self.dsn, self.services = dsn, services
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread: ServerThread | None = None

    def start(self) -> None:
        self._thread = ServerThread(create_app(self.dsn, services=self.services), port=self.port)
        self._thread.__enter__()

    def stop(self) -> None:
        if self._thread is not None:
            self._thread.__exit__(None, None, None)
            self._thread = None


@dataclass
class World:
    """One trader with one deployed bot on one exchange account."""

    dsn: str
    server: BackendServer
    backend: Backend
    exchange: ExchangeServer
    admin: AdminClient
    user_token: str
    user_id: int
    uid: int
    strategy_id: int
    bot_id: int
    api_secret: str = ""
    token: str = ""
    data_key: str = ""
    deployment_id: int = 0
    workdir: Path = Path()
    tasks: list[asyncio.Task[Any]] = field(default_factory=list)

    # the backend, as the trader and behind the API ----------------------------------------

    async def call(self, kind: str, path: str, args: dict[str, Any]) -> Any:
        async with httpx.AsyncClient(timeout=30) as http:
            response = await http.post(
                f"{self.server.url}/api/{kind}",
                json={"path": path, "args": args},
                headers={"Authorization": f"Bearer {self.user_token}"},
            )
        assert response.status_code == 200, response.text
        return response.json()["value"]

    async def sql(self, query: str, *params: Any) -> list[dict[str, Any]]:
        conn = await asyncpg.connect(self.dsn)
        try:
            return [dict(r) for r in await conn.fetch(query, *params)]
        finally:
            await conn.close()

    async def set_desired(self, state: str, close_positions: bool = True) -> None:
        await self.call(
            "mutation",
            "bots:setDesiredState",
            {"bot_id": self.bot_id, "state": state, "close_positions": close_positions},
        )

    async def deploy(self) -> None:
        """Open a deployment the way a provider does (token + data key)."""
        begun = await self.backend.system("bots:beginDeployment", {"bot_id": self.bot_id})
        self.token, self.data_key = begun["token"], begun["data_key"]
        self.deployment_id = begun["deployment_id"]
        await self.backend.system(
            "bots:markLifecycle",
            {"bot_id": self.bot_id, "lifecycle": "deploying", "instance_id": "in-process"},
        )

    def start_bot(self, options: BotOptions = FAST_OPTIONS) -> Bot:
        """The bot as a task on this loop (its workdir survives until the test ends)."""
        bot = Bot(
            self.server.url, self.token, base64.b64decode(self.data_key), self.workdir, options
        )
        self.tasks.append(asyncio.create_task(bot.run(), name="e2e-bot"))
        return bot

    # the market --------------------------------------------------------------------------

    async def subscribed(self, timeout_s: float = 20.0) -> None:
        """Wait until a bot's market feed listens to the candles (else a close is missed)."""
        hub = self.exchange.hub
        assert hub is not None
        await wait_for(lambda: bool(hub._public.get(KLINE_TOPIC)), timeout_s, "kline subscription")

    async def candles(
        self,
        bot: Bot,
        count: int,
        timeout_s: float = 10.0,
        between: Callable[[int], Any] | None = None,
    ) -> None:
        """Close ``count`` one-minute candles, each fully handled by ``bot`` before the next."""
        trader = bot.trader
        assert trader is not None
        for i in range(count):
            done = trader.candles_done
            await self.admin.advance(ms=MINUTE)
            await trader.wait_candles(done + 1, timeout_s)
            if between is not None:
                await between(i)

    # the judges --------------------------------------------------------------------------

    def exchange_account(self) -> Any:
        assert self.exchange.exchange is not None
        return self.exchange.exchange.accounts.by_uid[self.uid]

    def exchange_orders(self) -> list[dict[str, Any]]:
        return [o.to_bybit() for o in self.exchange_account().orders.values()]

    def own_orders(self, leg: str) -> list[dict[str, Any]]:
        """The bot's orders at the exchange for one leg: "en" (entries) or "ex" (exits)."""
        from bot.order_ids import parse_order_link_id

        return [
            o
            for o in self.exchange_orders()
            if (i := parse_order_link_id(o["orderLinkId"])) is not None and i.leg == leg
        ]

    def exchange_executions(self) -> list[dict[str, Any]]:
        return list(self.exchange_account().executions)

    async def reported_trades(self) -> list[dict[str, Any]]:
        return await self.sql(
            "SELECT * FROM trades WHERE bot_id = $1 ORDER BY entry_at", self.bot_id
        )

    async def events(self, kind: str | None = None) -> list[dict[str, Any]]:
        rows = await self.sql("SELECT * FROM bot_events WHERE bot_id = $1 ORDER BY id", self.bot_id)
        for row in rows:
            if isinstance(row["data"], str):
                row["data"] = json.loads(row["data"])
        return [r for r in rows if kind is None or r["kind"] == kind]


async def wait_for(
    predicate: Callable[[], Any], timeout_s: float, what: str, interval_s: float = 0.02
) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        await asyncio.sleep(interval_s)


async def wait_async(
    predicate: Callable[[], Any], timeout_s: float, what: str, interval_s: float = 0.05
) -> None:
    deadline = time.monotonic() + timeout_s
    while not await predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        await asyncio.sleep(interval_s)


def trades_from_executions(executions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The exchange's executions grouped into round trips by the trade seq in orderLinkId:
    quantity, VWAP entry/exit prices and total fees — what the backend must hold."""
    from bot.order_ids import parse_order_link_id
    from bot.reporting import money

    by_seq: dict[int, dict[str, Any]] = {}
    for row in executions:
        intent = parse_order_link_id(row.get("orderLinkId", ""))
        assert intent is not None, f"an execution not made by the bot: {row}"
        t = by_seq.setdefault(
            intent.trade_seq,
            {"en": [Decimal(0), Decimal(0)], "ex": [Decimal(0), Decimal(0)], "fees": Decimal(0)},
        )
        qty, price = Decimal(row["execQty"]), Decimal(row["execPrice"])
        t[intent.leg][0] += qty
        t[intent.leg][1] += qty * price
        t["fees"] += Decimal(row["execFee"])
    out = []
    for seq, t in sorted(by_seq.items()):
        if t["ex"][0] == 0:
            continue  # still open
        out.append(
            {
                "seq": seq,
                "quantity": money(t["en"][0]),
                "entry_price": money(t["en"][1] / t["en"][0]),
                "exit_price": money(t["ex"][1] / t["ex"][0]),
                "fees": money(t["fees"]),
            }
        )
    return out
