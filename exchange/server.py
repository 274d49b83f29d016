"""`ExchangeServer`: REST, both WebSockets and the admin API on one TLS port (starlette +
uvicorn), plus the task that runs the market on the wall clock.

    async with ExchangeServer(ExchangeConfig(clock="manual")) as server:
        server.rest_url, server.ws_public_url, server.ws_private_url, server.ca_file
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Self

import uvicorn
from starlette.applications import Starlette
from starlette.routing import WebSocketRoute

from exchange import admin_api, tls
from exchange.config import ExchangeConfig
from exchange.engine import Exchange
from exchange.rest import account, info, market, trade
from exchange.rest.common import not_found
from exchange.ws.hub import Hub
from exchange.ws.private import private_endpoint
from exchange.ws.public import public_endpoint
from exchange.ws.trade import trade_endpoint

LOG = logging.getLogger(__name__)


class _EmbeddedServer(uvicorn.Server):
    """uvicorn without its own signal handling: whoever embeds the server stops it."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def build_app(exchange: Exchange, hub: Hub) -> Starlette:
    routes = [
        *market.routes,
        *trade.routes,
        *account.routes,
        *info.routes,
        *admin_api.routes,
        WebSocketRoute("/v5/public/linear", public_endpoint),
        WebSocketRoute("/v5/private", private_endpoint),
        WebSocketRoute("/v5/trade", trade_endpoint),
    ]
    app = Starlette(routes=routes, exception_handlers={404: not_found, 405: not_found})
    app.state.exchange = exchange
    app.state.hub = hub
    return app


class ExchangeServer:
    """One running local exchange. Use `await start()`/`await stop()` or `async with`."""

    def __init__(self, config: ExchangeConfig | None = None) -> None:
        self.config = config or ExchangeConfig()
        self.exchange: Exchange | None = None
        self.hub: Hub | None = None
        self.port: int | None = None
        self.ca_file: Path | None = None
        self.ca_pem: str | None = None
        self._workdir: Path | None = None
        self._server: _EmbeddedServer | None = None
        self._serve_task: asyncio.Task | None = None
        self._market_task: asyncio.Task | None = None

    @property
    def base(self) -> str:
        return f"{self.config.host}:{self.port}"

    @property
    def rest_url(self) -> str:
        return f"https://{self.base}"

    @property
    def ws_public_url(self) -> str:
        return f"wss://{self.base}/v5/public/linear"

    @property
    def ws_private_url(self) -> str:
        return f"wss://{self.base}/v5/private"

    @property
    def ws_trade_url(self) -> str:
        return f"wss://{self.base}/v5/trade"

    @property
    def admin_url(self) -> str:
        return f"https://{self.base}/admin"

    async def start(self) -> Self:
        self._workdir = Path(tempfile.mkdtemp(prefix="plutarc-exchange-"))
        files = tls.generate(self.config.ca_file or self._workdir / "ca.pem", self._workdir)
        self.ca_file, self.ca_pem = files.ca_file, files.ca_pem
        self.exchange = Exchange(self.config)
        self.hub = Hub(self.exchange)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # accepted sockets inherit it: no Nagle/delayed-ACK stalls on small answers
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind((self.config.host, self.config.port))
        self.port = sock.getsockname()[1]
        uv_config = uvicorn.Config(
            build_app(self.exchange, self.hub),
            ssl_certfile=str(files.cert_file),
            ssl_keyfile=str(files.key_file),
            log_level="warning",
            lifespan="off",
            ws="websockets-sansio",
            ws_ping_interval=None,
            timeout_graceful_shutdown=1,
        )
        self._server = _EmbeddedServer(uv_config)
        self._serve_task = asyncio.create_task(self._server.serve(sockets=[sock]))
        while not self._server.started:
            if self._serve_task.done():
                await self._serve_task
                raise RuntimeError("the exchange server did not start")
            await asyncio.sleep(0.01)
        if not self.exchange.clock.manual:
            self._market_task = asyncio.create_task(self._run_market())
        return self

    async def _run_market(self) -> None:
        """Drive the market on the wall clock: run each step when its time comes."""
        while True:
            try:
                self.exchange.catch_up()
            except Exception:  # keep the market alive; the error is a bug to report
                LOG.exception("market step failed")
            next_step = self.exchange.last_step + self.config.step_ms
            await asyncio.sleep(max(0.001, self.exchange.clock.real_seconds_until(next_step)))

    async def stop(self) -> None:
        if self._market_task:
            self._market_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._market_task
        if self.hub:
            await self.hub.drop("all")
        if self._server and self._serve_task:
            self._server.should_exit = True
            await self._serve_task
        if self._workdir:
            shutil.rmtree(self._workdir, ignore_errors=True)

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()
