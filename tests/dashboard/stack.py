"""The real stack for the dashboard's browser tests and bench: database, API, dashboard
(built and served as `plutarc up` does), local exchange and the demo user's demo bot — the
parts of `plutarc up`, run on a background event loop — plus a second trader whose bot is a
"reporter": the test commits its reports (trades, equity) itself, so it knows each commit's
moment exactly.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from backend.config import Settings
from backend.demo import DEMO_EMAIL, ensure_demo_user
from frontend.part import DashboardPart
from infra.providers.base import Backend
from infra.providers.demo import DemoBotPart
from plutarc.up import ApiPart, DatabasePart, ExchangePart, Up
from tests.support.servers import free_port

DEMO_PASSWORD = "dashboard-demo-pass"
CHROMIUM = "/usr/bin/chromium"
REPORTER_SUPERVISOR = "test-reporter"  # the claim the test holds on the reporter bot


@dataclass
class Trader:
    email: str
    password: str
    token: str = ""
    bot_id: int = 0
    bot_token: str = ""  # the reporter bot's token (second trader only)


@dataclass
class Stack:
    up: Up
    parts: list[Any]
    loop: asyncio.AbstractEventLoop
    thread: threading.Thread
    demo: Trader = field(default_factory=lambda: Trader(DEMO_EMAIL, DEMO_PASSWORD))
    other: Trader = field(default_factory=lambda: Trader("", "other-trader-pass"))
    reports: int = 0

    @property
    def api(self) -> str:
        return self.up.facts["api_url"]

    @property
    def dashboard(self) -> str:
        return self.up.facts["dashboard_url"]

    def run(self, coro: Any, timeout: float = 120) -> Any:
        """Run a coroutine on the stack's loop from the test's thread."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def call(self, kind: str, path: str, args: dict[str, Any] | None = None,
             token: str | None = None) -> Any:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        answer = httpx.post(f"{self.api}/api/{kind}", json={"path": path, "args": args or {}},
                            headers=headers, timeout=30)
        assert answer.status_code == 200, answer.text
        return answer.json()["value"]

    def login(self, trader: Trader) -> str:
        trader.token = self.call("action", "auth:login",
                                 {"email": trader.email, "password": trader.password})["token"]
        return trader.token

    def report_trade(self, at: datetime, pnl: str = "3.5", side: str = "long") -> dict[str, Any]:
        """Commit one closed trade (its answer gains `committed_at`, wall seconds) and an
        equity point of the reporter bot."""
        self.reports += 1
        n = self.reports
        trade = self.call("mutation", "bot:reportTrade", {
            "report_id": f"t{n}", "symbol": "BTCUSDT", "side": side, "quantity": "0.01",
            "entry_price": "60000", "exit_price": "60350", "entry_at": (at - timedelta(minutes=3)).isoformat(),
            "exit_at": at.isoformat(), "fees": "0.5", "pnl": pnl, "exit_reason": "take_profit",
            "signal_state": {"score": 1.0, "signals": [{"type": "ma_cross", "score": 1.0}]},
            "mfe": "4", "mae": "1",
        }, self.other.bot_token)
        trade["committed_at"] = time.time()  # the mutation has returned: it is committed
        self.call("mutation", "bot:reportEquity", {
            "report_id": f"e{n}", "at": at.isoformat(), "equity": str(10000 + n)},
            self.other.bot_token)
        return trade

    def subscribers(self) -> int:
        """Live subscriptions the API holds now (its /api/stats)."""
        return httpx.get(f"{self.api}/api/stats", timeout=10).json()["subscribers"]


class _DemoUser:
    """`plutarc up` makes the demo user only on the embedded database; here it is a test
    database, so this part makes it."""

    name = "demo user"

    async def start(self, up: Up) -> list[str]:
        up.facts["demo_user_id"] = await ensure_demo_user(up.facts["dsn"], up.demo_password)
        return []

    async def stop(self) -> None:
        """Nothing to stop."""


def start_stack(dsn: str, data_dir: Path, demo: bool = True, stripe: bool = False) -> Stack:
    """The parts of `plutarc up`, the deployment supervisor among them. With `demo`, also the
    demo user's demo bot and the second trader's reporter bot; without, bots created in the
    browser are the only ones (on the exchange's demo account). With `stripe`, billing is on
    against a localstripe on a free port (`plutarc up --stripe local`)."""
    from infra.supervisor.service import SupervisorPart
    from plutarc.stripe_part import StripePart

    settings = Settings(database_url=dsn, data_dir=data_dir)
    options: dict[str, Any] = {"exchange_port": free_port(), "speed": 60.0,
                               "dashboard_port": free_port()}
    if stripe:
        options |= {"stripe": "local", "stripe_port": free_port()}
    up = Up(settings, "127.0.0.1", free_port(), DEMO_PASSWORD, options)
    parts: list[Any] = [DatabasePart(), _DemoUser(), *([StripePart()] if stripe else []),
                        ApiPart(), DashboardPart(), ExchangePart(), SupervisorPart()]
    if demo:
        parts.append(DemoBotPart())
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    stack = Stack(up, [], loop, thread)
    for part in parts:
        stack.run(part.start(up), timeout=600)
        stack.parts.append(part)
    stack.login(stack.demo)
    if demo:
        _add_other_trader(stack)
    return stack


@contextmanager
def running_stack(dsn: str, data_dir: Path, demo: bool = True,
                  stripe: bool = False) -> Iterator[Stack]:
    """A test module's stack (start_stack) with its own master key in `data_dir`, stopped
    afterwards and PLUTARC_MASTER_KEY_FILE as it was; fails at once without Chromium."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium chromium-driver "
                    "(.ci/run installs it)")
    saved = os.environ.get("PLUTARC_MASTER_KEY_FILE")
    os.environ["PLUTARC_MASTER_KEY_FILE"] = str(data_dir / "master.key")
    try:
        stack = start_stack(dsn, data_dir, demo=demo, stripe=stripe)
        try:
            yield stack
        finally:
            stop_stack(stack)
    finally:
        if saved is None:
            os.environ.pop("PLUTARC_MASTER_KEY_FILE", None)
        else:
            os.environ["PLUTARC_MASTER_KEY_FILE"] = saved


def _add_other_trader(stack: Stack) -> None:
    other = stack.other
    other.email = f"other-{uuid.uuid4().hex[:6]}@example.com"
    stack.call("action", "auth:signup", {"email": other.email, "password": other.password})
    token = stack.login(other)
    exchange = stack.up.facts["exchange"]
    key = stack.call("mutation", "apiKeys:add", {
        "exchange": "local", "label": "reporter", "api_key": "reporterKey0001",
        "api_secret": "reporter-secret-not-used"}, token)
    from tests.e2e.harness import template

    strategy = stack.call("mutation", "strategies:create",
                          {"template": template(name="Reporter strategy")}, token)
    bot = stack.call("mutation", "bots:create", {
        "name": "Reporter bot", "strategy_id": strategy["id"], "api_key_id": key["id"],
        "start": False}, token)
    other.bot_id = bot["id"]

    async def system(path: str, args: dict[str, Any]) -> Any:
        backend = await Backend.connect(stack.up.facts["dsn"])
        try:
            return await backend.system(path, args)
        finally:
            await backend.close()

    # The test stands in for a supervisor: it holds the reporter's claim (so the real
    # supervisor leaves the bot alone), sets it to run and opens its deployment itself.
    assert stack.run(system("deployer:claim", {"bot_id": bot["id"],
                                               "supervisor": REPORTER_SUPERVISOR,
                                               "lease_s": 3600}))
    stack.call("mutation", "bots:setDesiredState", {"bot_id": bot["id"], "state": "run"}, token)
    other.bot_token = stack.run(system("bots:beginDeployment", {"bot_id": bot["id"]}))["token"]
    assert exchange is not None


def stop_stack(stack: Stack) -> None:
    for part in reversed(stack.parts):
        stack.run(part.stop(), timeout=60)
    stack.loop.call_soon_threadsafe(stack.loop.stop)
    stack.thread.join(timeout=10)


def market_now(stack: Stack) -> datetime:
    """The local exchange's market clock (candle times follow it, not the wall)."""
    ms = stack.up.facts["exchange"].exchange.now()
    return datetime.fromtimestamp(ms / 1000, UTC)
