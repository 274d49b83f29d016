"""Python client of the admin API, for tests, demos and the CLI.

    async with AdminClient(server.admin_url, server.ca_file) as admin:
        account = await admin.create_account(balance="5000")
        await admin.advance(ms=60_000)          # manual clock only
        await admin.set_faults(rest_error_rate=0.2, ws_delay_ms=300)

`SyncAdminClient` offers the same methods, blocking, for code without an event loop (never
call it from the loop the exchange itself runs on).
"""

from __future__ import annotations

import asyncio
import ssl
from pathlib import Path
from typing import Any, Self

import httpx


class AdminError(RuntimeError):
    pass


class AdminClient:
    """Async client of `/admin/...`. `url` is the exchange's admin URL (https://host:port/admin)."""

    def __init__(self, url: str, ca_file: Path | str, timeout: float = 30.0) -> None:
        self.url = url.rstrip("/")
        self._http = httpx.AsyncClient(
            verify=ssl.create_default_context(cafile=str(ca_file)), timeout=timeout
        )

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _call(self, action: str, body: dict | None = None) -> Any:
        if body is None:
            response = await self._http.get(f"{self.url}/{action}")
        else:
            clean = {
                k: str(v) if not isinstance(v, (int, float, bool, dict)) else v
                for k, v in body.items()
                if v is not None
            }
            response = await self._http.post(f"{self.url}/{action}", json=clean)
        data = response.json()
        if response.status_code != 200:
            raise AdminError(data.get("error", response.text))
        return data

    async def state(self) -> dict:
        return await self._call("state")

    async def accounts(self) -> list[dict]:
        return await self._call("accounts")

    async def create_account(
        self, balance: Any = None, api_key: str | None = None, api_secret: str | None = None
    ) -> dict:
        """New account; the answer holds uid, apiKey and apiSecret."""
        return await self._call(
            "accounts", {"balance": balance, "apiKey": api_key, "apiSecret": api_secret}
        )

    async def account(self, uid: int) -> dict:
        return await self._call("account", {"uid": uid})

    async def fund(self, uid: int, amount: Any) -> dict:
        """Add (or with a negative amount remove) USDT."""
        return await self._call("account", {"uid": uid, "amount": amount})

    async def reset(self) -> dict:
        return await self._call("reset", {})

    async def advance(self, ms: int = 0, to: int | None = None) -> dict:
        """Manual clock: move forward by `ms` or to timestamp `to`, running the market."""
        return await self._call("advance", {"ms": ms, "to": to})

    async def pause(self, paused: bool = True) -> dict:
        return await self._call("pause", {"paused": paused})

    async def set_price(self, symbol: str, price: Any) -> dict:
        """The next market step of `symbol` trades at `price`."""
        return await self._call("price", {"symbol": symbol, "price": price})

    async def faults(self) -> dict:
        return await self._call("faults")

    async def set_faults(self, **settings: Any) -> dict:
        """Change fault settings (see exchange.faults.FaultSettings)."""
        return await self._call("faults", settings)

    async def drop_ws(self, scope: str = "all", uid: int | None = None) -> dict:
        """Close WebSocket connections: scope "all", "public" or "private"."""
        return await self._call("drop-ws", {"scope": scope, "uid": uid})

    async def lose(self, topic: str, count: int = 1, uid: int | None = None) -> dict:
        """Silently drop the next `count` private messages of `topic`."""
        return await self._call("lose", {"topic": topic, "count": count, "uid": uid})


class SyncAdminClient:
    """Blocking access to every AdminClient method (one short-lived connection per call)."""

    def __init__(self, url: str, ca_file: Path | str) -> None:
        self.url = url
        self.ca_file = ca_file

    def __getattr__(self, name: str):
        if name.startswith("_") or not callable(getattr(AdminClient, name, None)):
            raise AttributeError(name)

        def call(*args: Any, **kwargs: Any) -> Any:
            async def run() -> Any:
                async with AdminClient(self.url, self.ca_file) as client:
                    return await getattr(client, name)(*args, **kwargs)

            return asyncio.run(run())

        return call
