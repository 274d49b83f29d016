"""Fixtures of the end-to-end tests: one database per module, and per test a fresh local
exchange (manual clock), backend server and trader with a deployed bot (see harness.py)."""

from __future__ import annotations

import asyncio
import base64
import os
import secrets
import uuid
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from backend.reactive.engine import Engine
from exchange.admin import AdminClient
from exchange.config import ExchangeConfig
from exchange.server import ExchangeServer
from infra.providers.base import Backend, Provider
from infra.providers.local import LocalProvider
from infra.supervisor.core import Supervisor, SupervisorOptions
from infra.supervisor.crashes import CrashPolicy
from tests.e2e.harness import SYMBOL, BackendServer, World, template

# fast enough for tests, same rules: 5 crashes in the window → error
TEST_OPTIONS = SupervisorOptions(
    lease_s=6.0, sweep_s=2.0, stop_timeout_s=30.0, crash_policy=CrashPolicy(base_s=0.2, cap_s=2.0)
)


@pytest.fixture(scope="module", autouse=True)
def master_key() -> Iterator[None]:
    saved = os.environ.get("PLUTARC_MASTER_KEY")
    os.environ["PLUTARC_MASTER_KEY"] = base64.b64encode(secrets.token_bytes(32)).decode()
    yield
    if saved is None:
        os.environ.pop("PLUTARC_MASTER_KEY", None)
    else:
        os.environ["PLUTARC_MASTER_KEY"] = saved


async def _login(url: str) -> str:
    email = f"e2e-{uuid.uuid4().hex[:8]}@example.com"
    password = "correct horse battery"
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        await http.post(
            "/api/action",
            json={"path": "auth:signup", "args": {"email": email, "password": password}},
        )
        answer = await http.post(
            "/api/action",
            json={"path": "auth:login", "args": {"email": email, "password": password}},
        )
    return answer.json()["value"]["token"]


async def make_world(db_dsn: str, tmp_path, seed: int = 11, start: bool = True,
                     services=None) -> World:
    server = BackendServer(db_dsn, services)
    await asyncio.to_thread(server.start)
    backend = await Backend.connect(db_dsn)
    ex = await ExchangeServer(
        ExchangeConfig(clock="manual", symbols=(SYMBOL,), seed=seed, ca_file=tmp_path / "ca.pem")
    ).start()
    admin = AdminClient(ex.admin_url, ex.ca_file)
    await backend.system(
        "apiKeys:setExchangeEndpoint",
        {
            "exchange": "local",
            "rest_url": ex.rest_url,
            "ws_public_url": ex.ws_public_url,
            "ws_private_url": ex.ws_private_url,
            "ca_pem": ex.ca_pem,
        },
    )
    account = await admin.create_account(balance="10000")
    token = await _login(server.url)
    world = World(
        db_dsn, server, backend, ex, admin, token, 0, account["uid"], 0, 0, workdir=tmp_path / "bot"
    )
    world.api_secret = account["apiSecret"]
    world.user_id = (await world.call("query", "auth:me", {}))["id"]
    key = await world.call(
        "mutation",
        "apiKeys:add",
        {
            "exchange": "local",
            "label": "e2e",
            "api_key": account["apiKey"],
            "api_secret": account["apiSecret"],
        },
    )
    strategy = await world.call("mutation", "strategies:create", {"template": template()})
    world.strategy_id = strategy["id"]
    bot = await world.call(
        "mutation",
        "bots:create",
        {"name": "e2e bot", "strategy_id": strategy["id"], "api_key_id": key["id"],
         "start": start},
    )
    world.bot_id = bot["id"]
    return world


async def close_world(world: World) -> None:
    for task in world.tasks:
        task.cancel()
    await asyncio.gather(*world.tasks, return_exceptions=True)
    await world.admin.aclose()
    await world.exchange.stop()
    await world.backend.close()
    await asyncio.to_thread(world.server.stop)


@pytest.fixture
async def world(db_dsn: str, tmp_path) -> AsyncIterator[World]:
    w = await make_world(db_dsn, tmp_path)
    try:
        yield w
    finally:
        await close_world(w)


class Supervised:
    """Supervisors over one world's database, each with its own engine and local provider;
    everything they started is ended when the test ends."""

    def __init__(self, world: World, data_dir) -> None:
        self.world, self.data_dir = world, data_dir
        self.running: list[tuple[Supervisor, Engine]] = []

    async def start(
        self, ident: str = "sup-test", command: list[str] | None = None,
        options: SupervisorOptions = TEST_OPTIONS, extra: dict[str, Provider] | None = None,
    ) -> Supervisor:
        engine = Engine(self.world.backend.runtime, self.world.dsn)
        await engine.start()
        local = LocalProvider(self.world.server.url, self.data_dir, command=command)
        supervisor = await Supervisor(self.world.backend, engine, {"local": local, **(extra or {})},
                                      ident, options).start()
        self.running.append((supervisor, engine))
        return supervisor

    async def stop(self, supervisor: Supervisor, terminate: bool) -> None:
        engine = next(e for s, e in self.running if s is supervisor)
        self.running.remove((supervisor, engine))
        await supervisor.stop(terminate=terminate)
        await engine.stop()

    async def close(self) -> None:
        """End every supervisor and what it ran; the bots left open in the module's database
        are closed too, so the next test's supervisor does not take them up."""
        for supervisor, _ in list(self.running):
            await self.stop(supervisor, terminate=True)
        for row in await self.world.sql(
            "SELECT d.bot_id, d.id FROM deployments d WHERE d.ended_at IS NULL"
        ):
            await self.world.backend.system("bots:endDeployment", {
                "bot_id": row["bot_id"], "deployment_id": row["id"], "outcome": "failed",
                "detail": "the test ended"})


@pytest.fixture
async def supervised(world: World, tmp_path) -> AsyncIterator[Supervised]:
    """Start supervisors with `await supervised.start()`; all stopped (bots ended) at the end."""
    many = Supervised(world, tmp_path / "data")
    try:
        yield many
    finally:
        await many.close()
