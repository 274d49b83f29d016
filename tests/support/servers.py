"""Run an ASGI app with uvicorn on a free loopback port in a background thread, for tests
that talk to it over real sockets from any event loop."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from types import ModuleType

from backend.runtime import Functions, discover
from plutarc.server import make_server


def app_and_module_functions(module: ModuleType) -> Functions:
    """The app's functions plus those a test module defines (as `test_module:name`)."""
    return discover() | Functions.from_modules(module)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerThread:
    """`with ServerThread(app) as url:` — the app served at `url` until the block ends."""

    def __init__(self, app: object, port: int | None = None, log_level: str = "warning") -> None:
        self.port = port or free_port()
        self.server = make_server(app, "127.0.0.1", self.port, log_level=log_level)
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.url = f"http://127.0.0.1:{self.port}"

    def _run(self) -> None:
        asyncio.run(self.server.serve())

    def __enter__(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("test server did not start")
            time.sleep(0.02)
        return self.url

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=20)
