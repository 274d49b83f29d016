"""The server side of bench/reactive.py: the table and the query its clients subscribe to, and
the server process that serves them.

The server runs in its own process, so that its CPU is measured alone and the load generator
does not share its GIL. That process serves the app's functions plus this module's
(`reactive_functions:item`: a function's path is its module name, then its own name).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from typing import Self, TypedDict

import asyncpg
import httpx
import psutil

from backend.reactive.capture import install_capture
from backend.runtime import Ctx, Functions, discover, query

ITEM_PATH = "reactive_functions:item"
START_TIMEOUT_S = 60


class Item(TypedDict):
    id: int
    key_id: int
    value: int


@query
async def item(ctx: Ctx, key_id: int) -> Item | None:
    """The row of one key; `value` is the sequence number of the last write to it."""
    return await ctx.db.fetchrow("SELECT id, key_id, value FROM items WHERE key_id = $1", key_id)


async def create_items(conn: asyncpg.Connection, keys: int) -> None:
    """`items` with one row per key 1..keys (value 0), an index on key_id, and capture."""
    await conn.execute(
        "CREATE TABLE items (id bigint PRIMARY KEY, key_id bigint NOT NULL, value bigint NOT NULL)"
    )
    await conn.execute("CREATE INDEX items_key_id ON items (key_id)")
    await conn.execute(
        "INSERT INTO items SELECT g, g, 0 FROM generate_series(1, $1::bigint) g", keys
    )
    await install_capture(conn, "items")


def serve(dsn: str, port: int, targeted: bool) -> None:
    """In the server process: serve the app on loopback until SIGTERM."""
    import uvicorn

    from backend.app import create_app

    functions = discover() | Functions.from_modules(sys.modules[__name__])
    uvicorn.run(create_app(dsn, functions=functions, targeted=targeted), host="127.0.0.1",
                port=port, log_level="warning")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`with Server(dsn, targeted) as server:` — a server process at `server.url`."""

    def __init__(self, dsn: str, targeted: bool) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        code = (
            f"import sys; sys.path.insert(0, {os.path.dirname(os.path.abspath(__file__))!r}); "
            "from reactive_functions import serve; "
            "serve(sys.argv[1], int(sys.argv[2]), sys.argv[3] == 'targeted')"
        )
        mode = "targeted" if targeted else "untargeted"
        self.proc = subprocess.Popen([sys.executable, "-c", code, dsn, str(self.port), mode])
        self.ps = psutil.Process(self.proc.pid)

    def __enter__(self) -> Self:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"bench server exited with {self.proc.returncode}")
            try:
                if httpx.get(f"{self.url}/api/health", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.__exit__()
        raise RuntimeError(f"bench server did not start within {START_TIMEOUT_S} s")

    def __exit__(self, *exc: object) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def cpu_seconds(self) -> float:
        """CPU seconds the server process has used."""
        times = self.ps.cpu_times()
        return times.user + times.system
