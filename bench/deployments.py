"""Deployment times on the real stack: `bots:create` → `online`, and `bots:setDesiredState
(stop)` → `stopped`, for bots deployed one after the other by the supervisor with the local
provider (each a real bot process against the local exchange, manual clock).

Baseline in the same run: the wall time of a bare `python -c "import bot.main"` — the
interpreter start and imports every bot process pays before it can do anything.

Run: python bench/deployments.py [--bots 10] [--dsn postgresql://...]  (about 1 minute)
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import asyncpg
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from backend.app import create_app
from backend.reactive.engine import Engine
from backend.testing.databases import create_database, create_migrated_template, drop_database
from exchange.admin import AdminClient
from exchange.config import ExchangeConfig
from exchange.server import ExchangeServer
from infra.providers.base import Backend
from infra.providers.local import LocalProvider
from infra.supervisor.core import Supervisor
from tests.e2e.harness import SYMBOL, template
from tests.support.servers import ServerThread


def baseline_s() -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import bot.main"], check=True)
    return time.perf_counter() - started


class Api:
    def __init__(self, url: str) -> None:
        self.http = httpx.AsyncClient(base_url=url, timeout=30)
        self.token = ""

    async def call(self, kind: str, path: str, args: dict) -> dict:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        answer = await self.http.post(f"/api/{kind}", json={"path": path, "args": args},
                                      headers=headers)
        answer.raise_for_status()
        return answer.json()["value"]


async def lifecycle_reached(pool: asyncpg.Pool, bot_id: int, state: str, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while await pool.fetchval("SELECT lifecycle FROM bots WHERE id = $1", bot_id) != state:
        if time.monotonic() > deadline:
            raise TimeoutError(f"bot {bot_id} not {state} after {timeout_s}s")
        await asyncio.sleep(0.02)


async def run(dsn: str, bots: int) -> None:
    template_db = await create_migrated_template(dsn)
    name = f"plutarc_bench_deploy_{uuid.uuid4().hex[:8]}"
    db = await create_database(dsn, name, template=template_db)
    tmp = Path(tempfile.mkdtemp(prefix="plutarc-bench-deploy-"))
    os.environ["PLUTARC_MASTER_KEY"] = base64.b64encode(secrets.token_bytes(32)).decode()
    exchange = await ExchangeServer(ExchangeConfig(clock="manual", symbols=(SYMBOL,),
                                                   ca_file=tmp / "ca.pem")).start()
    admin = AdminClient(exchange.admin_url, exchange.ca_file)
    with ServerThread(create_app(db)) as url:
        backend = await Backend.connect(db)
        engine = Engine(backend.runtime, db)
        await engine.start()
        supervisor = await Supervisor(backend, engine, {"local": LocalProvider(url, tmp)},
                                      "bench").start()
        api = Api(url)
        try:
            await backend.system("apiKeys:setExchangeEndpoint", {
                "exchange": "local", "rest_url": exchange.rest_url,
                "ws_public_url": exchange.ws_public_url,
                "ws_private_url": exchange.ws_private_url, "ca_pem": exchange.ca_pem})
            creds = {"email": "bench@example.com", "password": "correct horse battery"}
            await api.call("action", "auth:signup", creds)
            api.token = (await api.call("action", "auth:login", creds))["token"]
            strategy = await api.call("mutation", "strategies:create", {"template": template()})
            online, stopped = [], []
            for i in range(bots):
                account = await admin.create_account(balance="10000")
                key = await api.call("mutation", "apiKeys:add", {
                    "exchange": "local", "label": f"b{i}", "api_key": account["apiKey"],
                    "api_secret": account["apiSecret"]})
                started = time.perf_counter()
                bot = await api.call("mutation", "bots:create", {
                    "name": f"bench-{i}", "strategy_id": strategy["id"], "api_key_id": key["id"]})
                await lifecycle_reached(backend.runtime.pool, bot["id"], "online", 60)
                online.append(time.perf_counter() - started)
                started = time.perf_counter()
                await api.call("mutation", "bots:setDesiredState",
                               {"bot_id": bot["id"], "state": "stop"})
                await lifecycle_reached(backend.runtime.pool, bot["id"], "stopped", 60)
                stopped.append(time.perf_counter() - started)
                print(f"bot {i + 1}: online {online[-1]:.2f} s, stopped {stopped[-1]:.2f} s")
        finally:
            await supervisor.stop(terminate=True)
            await engine.stop()
            await backend.close()
            await api.http.aclose()
    await admin.aclose()
    await exchange.stop()
    await drop_database(dsn, name)
    await drop_database(dsn, template_db)
    base = baseline_s()
    print(f"\nbaseline: python -c 'import bot.main' {base:.2f} s")
    print("| step | p50 | max | p50 / baseline |\n| --- | --- | --- | --- |")
    for label, values in (("create → online", online), ("stop → stopped", stopped)):
        p50 = statistics.median(values)
        print(f"| {label} ({len(values)} bots) | {p50:.2f} s | {max(values):.2f} s | "
              f"{p50 / base:.1f}× |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bots", type=int, default=10)
    parser.add_argument("--dsn", default=os.environ.get(
        "DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"))
    args = parser.parse_args()
    asyncio.run(run(args.dsn, args.bots))


if __name__ == "__main__":
    main()
