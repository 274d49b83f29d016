"""The server side of bench/reactive.py: the table and the query its clients subscribe to, and
the server process that serves them.

The server runs in its own process, so that its CPU is measured alone and the load generator
does not share its GIL. That process serves the app's functions plus this module's
(`reactive_functions:item`: a function's path is its module name, then its own name).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from typing import Any, Self, TypedDict

import asyncpg
import httpx
import psutil

from backend.reactive.capture import install_capture
from backend.runtime import Ctx, query

ITEM_PATH = "reactive_functions:item"
NOTE_PATH = "reactive_functions:note"
START_TIMEOUT_S = 60


class Item(TypedDict):
    id: int
    key_id: int
    value: int


@query
async def item(ctx: Ctx, key_id: int) -> Item | None:
    """The row of one key; `value` is the sequence number of the last write to it."""
    return await ctx.db.fetchrow("SELECT id, key_id, value FROM items WHERE key_id = $1", key_id)


class Note(TypedDict):
    id: int
    value: int


@query
async def note(ctx: Ctx, note_id: int) -> Note | None:
    """A row of a second table, for updates that must flow while `items` stampedes."""
    return await ctx.db.fetchrow("SELECT id, value FROM notes WHERE id = $1", note_id)


async def create_notes(conn: asyncpg.Connection, rows: int) -> None:
    """`notes` with rows 1..rows (value 0) and capture."""
    await conn.execute("CREATE TABLE notes (id bigint PRIMARY KEY, value bigint NOT NULL)")
    await conn.execute("INSERT INTO notes SELECT g, 0 FROM generate_series(1, $1::bigint) g", rows)
    await install_capture(conn, "notes")


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


def serve(dsn: str, port: int, targeted: bool, reactive: str = "") -> None:
    """In the server process: serve the app on loopback until SIGTERM; `reactive` is JSON of
    engine options (only the current code takes them)."""
    import uvicorn

    from backend.app import create_app

    options: dict[str, Any] = {"reactive": json.loads(reactive)} if reactive else {}
    try:
        from backend.runtime import Functions, discover
    except ImportError:  # an older tree (a bench baseline): the decorators registered them
        pass
    else:
        options["functions"] = discover() | Functions.from_modules(sys.modules[__name__])
    uvicorn.run(create_app(dsn, targeted=targeted, **options), host="127.0.0.1", port=port,
                log_level="warning")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`with Server(dsn, targeted) as server:` — a server process at `server.url`."""

    def __init__(
        self, dsn: str, targeted: bool, tree: str | None = None,
        reactive: dict[str, Any] | None = None,
    ) -> None:
        """`tree`: serve the backend of another source tree (e.g. a baseline commit) with this
        bench's functions."""
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        bench_dir = os.path.dirname(os.path.abspath(__file__))
        root = os.path.abspath(tree or os.path.dirname(bench_dir))
        code = (
            f"import sys; sys.path[:0] = [{bench_dir!r}, {root!r}]; "
            "from reactive_functions import serve; "
            "serve(sys.argv[1], int(sys.argv[2]), sys.argv[3] == 'targeted', sys.argv[4])"
        )
        mode = "targeted" if targeted else "untargeted"
        options = json.dumps(reactive) if reactive else ""
        self.proc = subprocess.Popen([sys.executable, "-c", code, dsn, str(self.port), mode, options],
                                     cwd=root)
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

    def rss(self) -> int:
        """Resident memory of the server process, in bytes."""
        return self.ps.memory_info().rss

    def cpu_seconds(self) -> float:
        """CPU seconds the server process has used."""
        times = self.ps.cpu_times()
        return times.user + times.system
